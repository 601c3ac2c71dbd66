/**
 * The shape every promotion gate / circuit breaker returns, and what each breaker does when it
 * fails.
 */

/** Every gate, in the order `evaluateGates` (evaluate.ts) runs and reports them. */
export const GATE_NAMES = [
  'kill_switch',
  'drawdown_parent',
  'drawdown_agent',
  'var_historical',
  'var_parametric',
  'es_historical',
  'es_parametric',
  'exposure_symbol',
  'exposure_aggregate',
  'leverage',
  'min_trade_count',
  'liquidity_minute_participation',
  'liquidity_daily_participation',
  'liquidity_spread',
  'data_staleness',
  'promotion_window',
  'psr',
  'dsr',
  'oos',
  'baseline',
] as const;

/**
 * The evidence gates (`evidence.ts`): the statistics of the candidate's own track record. The
 * Day-3 go/no-go requires them; `evaluateGates` (evaluate.ts) (the order-time gates of every promotion)
 * does not run them.
 */
export const EVIDENCE_GATE_NAMES = ['psr', 'dsr', 'oos', 'baseline'] as const;

/** The order-time gates `evaluateGates` (evaluate.ts) runs for every promotion, in order. */
export const ORDER_GATE_NAMES = GATE_NAMES.filter(
  (g) => !(EVIDENCE_GATE_NAMES as readonly string[]).includes(g),
);

/** Stable gate identifier (audit records and dashboards key on it: never rename one). */
export type GateName = (typeof GATE_NAMES)[number];

/**
 * What a failed breaker asks the execution side to do, from mildest to strongest:
 * - `none`: block this promotion only (eligibility gate, nothing to unwind);
 * - `pause_entries`: no new risk-increasing orders until the gate passes again;
 * - `reduce_only`: only orders that reduce existing exposure are allowed;
 * - `flatten`: cancel open orders and close every position.
 */
export type BreakerAction = 'none' | 'pause_entries' | 'reduce_only' | 'flatten';

/** Rank of each {@link BreakerAction}; higher is stronger. */
export const BREAKER_ACTION_SEVERITY: Readonly<Record<BreakerAction, number>> = {
  none: 0,
  pause_entries: 1,
  reduce_only: 2,
  flatten: 3,
};

/**
 * The action each gate declares for when it fails. Rationale: a tripped kill switch or parent
 * (bankroll) drawdown stop flattens everything; an agent drawdown, an exposure or leverage
 * breach reduces risk; risk-measure, liquidity and stale-data failures stop new entries;
 * trade-count, window and evidence (PSR, DSR, out-of-sample, baseline) gates only decide
 * eligibility.
 */
export const GATE_BREAKER_ACTIONS: Readonly<Record<GateName, BreakerAction>> = {
  kill_switch: 'flatten',
  drawdown_parent: 'flatten',
  drawdown_agent: 'reduce_only',
  var_historical: 'pause_entries',
  var_parametric: 'pause_entries',
  es_historical: 'pause_entries',
  es_parametric: 'pause_entries',
  exposure_symbol: 'reduce_only',
  exposure_aggregate: 'reduce_only',
  leverage: 'reduce_only',
  min_trade_count: 'none',
  liquidity_minute_participation: 'pause_entries',
  liquidity_daily_participation: 'pause_entries',
  liquidity_spread: 'pause_entries',
  data_staleness: 'pause_entries',
  promotion_window: 'none',
  psr: 'none',
  dsr: 'none',
  oos: 'none',
  baseline: 'none',
};

/**
 * What a gate concluded:
 * - `pass`: judged, and within its threshold;
 * - `fail`: judged and outside it, or its input was missing or unusable (fail closed); blocks;
 * - `not_judged`: too little to judge yet, said in the reason (the daily `baseline` gate with
 *   fewer than `minOutOfSampleSessions` paper sessions); does NOT block, and is counted and
 *   shown apart from the passes everywhere (never as a pass).
 * Stable identifiers (audit records and dashboards key on them).
 */
export const GATE_VERDICTS = ['pass', 'fail', 'not_judged'] as const;
export type GateVerdict = (typeof GATE_VERDICTS)[number];

/**
 * One gate's verdict. `observed` and `threshold` are in `unit` (for example
 * `fraction of capital`, `bps`, `seconds`); `observed` is `null` when the input was missing
 * or unusable, in which case the verdict is always `fail` ("fail closed"). `breakerAction` is
 * the gate's declared action when `verdict === 'fail'` and `'none'` otherwise.
 */
export interface GateResult {
  readonly gate: GateName;
  readonly verdict: GateVerdict;
  readonly observed: number | string | null;
  readonly threshold: number | string | null;
  readonly unit: string;
  /** Human-readable explanation, safe to show in the audit trail and Slack. */
  readonly reason: string;
  readonly breakerAction: BreakerAction;
}

/**
 * The verdict fields of a `gate_evaluated` audit record (docs/audit.md), snake_case:
 * `{ gate, verdict, observed, threshold, unit, reason, breaker_action }`, units as in `r`.
 * The promotion pipeline and the Day-3 review add when and on what the verdict rests.
 */
export function gateVerdictFields(r: GateResult) {
  return {
    gate: r.gate,
    verdict: r.verdict,
    observed: r.observed,
    threshold: r.threshold,
    unit: r.unit,
    reason: r.reason,
    breaker_action: r.breakerAction,
  };
}

/**
 * True when no gate failed: a `not_judged` gate does not block; any verdict other than `pass`
 * and `not_judged` (an unknown one included) blocks (fail closed).
 */
export function noGateFailed(results: readonly { readonly verdict: string }[]): boolean {
  return results.every((r) => r.verdict === 'pass' || r.verdict === 'not_judged');
}

/** A gate table's verdicts, counted (an unknown verdict counts as a failure: fail closed). */
export interface VerdictCounts {
  readonly passed: number;
  readonly failed: number;
  readonly notJudged: number;
}

/** {@link VerdictCounts} of `results`. */
export function countVerdicts(results: readonly { readonly verdict: unknown }[]): VerdictCounts {
  const passed = results.filter((r) => r.verdict === 'pass').length;
  const notJudged = results.filter((r) => r.verdict === 'not_judged').length;
  return { passed, failed: results.length - passed - notJudged, notJudged };
}

/** "15 passed, 1 failed" and, when any, ", 1 not judged". */
export function describeVerdictCounts(c: VerdictCounts): string {
  return `${c.passed} passed, ${c.failed} failed${c.notJudged > 0 ? `, ${c.notJudged} not judged` : ''}`;
}

/** How a verdict reads in a table: `PASS`, `FAIL`, `NOT JUDGED` (unknown: `FAIL`). */
export function verdictLabel(verdict: unknown): string {
  if (verdict === 'pass') return 'PASS';
  if (verdict === 'not_judged') return 'NOT JUDGED';
  return 'FAIL';
}

/** The strongest {@link BreakerAction} among failed results; `'none'` when all pass. */
export function strongestAction(results: readonly GateResult[]): BreakerAction {
  let best: BreakerAction = 'none';
  for (const r of results) {
    if (
      r.verdict === 'fail' &&
      BREAKER_ACTION_SEVERITY[r.breakerAction] > BREAKER_ACTION_SEVERITY[best]
    ) {
      best = r.breakerAction;
    }
  }
  return best;
}
