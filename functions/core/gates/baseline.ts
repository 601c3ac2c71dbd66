/**
 * The `baseline` gate of the Day-3 go/no-go: does the candidate beat the cohort baselines
 * (`cohort/baselines.ts`: `flat`, and `buy_and_hold` of the candidate's own symbol) out of
 * sample, on the same sessions, bars and costs?
 *
 * Over the candidate's out-of-sample sessions (walk-forward, see `oos` in `evidence.ts`), each
 * baseline's mean session return is taken on exactly those session dates, from the cohort the
 * candidate's session came from (its date's cohort for a paper session). The gate passes when
 * the candidate's mean out-of-sample session return is strictly above every baseline's:
 * observed = the candidate's mean, threshold = the best baseline's mean, both fractions per
 * session. It fails closed when there is no out-of-sample session, when a session lacks a
 * baseline (a cohort recorded before baselines existed), or on a non-finite figure: the
 * reason then names the dates. Pure.
 */
import { GATE_BREAKER_ACTIONS, type GateResult } from './types.js';

/** One baseline's session return on one date. */
export interface BaselineSession {
  readonly baseline: 'flat' | 'buy_and_hold';
  /** Symbol held; null for `flat`. */
  readonly symbol: string | null;
  /** Fraction of the baseline's slice. */
  readonly sessionReturn: number;
}

/** One baseline's out-of-sample record beside the candidate's. */
export interface BaselineSample {
  readonly baseline: 'flat' | 'buy_and_hold';
  readonly symbol: string | null;
  /** Sessions with a figure, count. */
  readonly n: number;
  /** Mean session return, fraction per session; null without sessions. */
  readonly meanReturn: number | null;
}

/** What the `baseline` gate reads (see the module comment). */
export interface BaselineComparison {
  /** The candidate's symbol (the buy-and-hold it must beat). */
  readonly symbol: string;
  /** The out-of-sample session dates compared, oldest first. */
  readonly sessionDates: string[];
  /** The candidate's mean out-of-sample session return, fraction; null without sessions. */
  readonly candidateMeanReturn: number | null;
  readonly baselines: BaselineSample[];
  /** Out-of-sample dates without a baseline figure (the gate fails closed on any). */
  readonly missingDates: string[];
}

/**
 * Compares the candidate's out-of-sample sessions with the baselines of the same sessions.
 *
 * @param sessions the candidate's out-of-sample sessions (date, its return, fraction, and the
 *   baselines recorded for that session; `null` when none were).
 */
export function compareWithBaselines(
  symbol: string,
  sessions: readonly {
    readonly sessionDate: string;
    readonly sessionReturn: number;
    readonly baselines: readonly BaselineSession[] | null;
  }[],
): BaselineComparison {
  const mean = (xs: readonly number[]): number | null =>
    xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  const wanted = [
    { baseline: 'flat' as const, symbol: null },
    { baseline: 'buy_and_hold' as const, symbol },
  ];
  const missingDates: string[] = [];
  const returns = wanted.map(() => [] as number[]);
  for (const s of sessions) {
    const found = wanted.map((w) =>
      s.baselines?.find((b) => b.baseline === w.baseline && b.symbol === w.symbol),
    );
    if (found.some((f) => f === undefined)) missingDates.push(s.sessionDate);
    found.forEach((f, i) => {
      if (f) returns[i]?.push(f.sessionReturn);
    });
  }
  return {
    symbol,
    sessionDates: sessions.map((s) => s.sessionDate),
    candidateMeanReturn: mean(sessions.map((s) => s.sessionReturn)),
    baselines: wanted.map((w, i) => {
      const xs = returns[i] ?? [];
      return { ...w, n: xs.length, meanReturn: mean(xs) };
    }),
    missingDates,
  };
}

const fmt = (x: number): string => String(Number(x.toPrecision(4)));
const pct = (x: number | null): string => (x === null ? 'n/a' : `${fmt(x * 100)}%`);
const nameOf = (b: BaselineSample): string =>
  b.symbol === null ? b.baseline : `${b.baseline} ${b.symbol}`;

/** The `baseline` gate (see the module comment). */
export function baselineGate(c: BaselineComparison | null | undefined): GateResult {
  const base = { gate: 'baseline' as const, unit: 'fraction per session' };
  const fail = (observed: number | null, threshold: number | null, reason: string) => ({
    ...base,
    verdict: 'fail' as const,
    observed,
    threshold,
    reason,
    breakerAction: GATE_BREAKER_ACTIONS.baseline,
  });
  if (!c) return fail(null, null, 'no baseline comparison of the candidate: failing closed');
  const figures =
    `out of sample n=${c.sessionDates.length}` +
    `${c.sessionDates.length > 0 ? ` [${c.sessionDates.join(', ')}]` : ''}: candidate ${c.symbol} ` +
    `mean ${pct(c.candidateMeanReturn)} per session; ` +
    c.baselines.map((b) => `${nameOf(b)} mean ${pct(b.meanReturn)} (n=${b.n})`).join(', ');
  const means = c.baselines.map((b) => b.meanReturn);
  const best = means.every((m) => m !== null && Number.isFinite(m))
    ? Math.max(...(means as number[]))
    : null;
  if (c.sessionDates.length === 0) {
    return fail(null, best, `insufficient evidence: no out-of-sample session; ${figures}`);
  }
  if (c.missingDates.length > 0) {
    return fail(
      c.candidateMeanReturn,
      best,
      `no baseline recorded for ${c.missingDates.join(', ')}: failing closed; ${figures}`,
    );
  }
  const m = c.candidateMeanReturn;
  if (m === null || !Number.isFinite(m) || best === null) {
    return fail(m, best, `${figures}: failing closed`);
  }
  const pass = m > best;
  return {
    ...base,
    verdict: pass ? 'pass' : 'fail',
    observed: m,
    threshold: best,
    reason: `${figures}; ${pass ? 'beats' : 'does not beat'} the best baseline (${pct(best)})`,
    breakerAction: pass ? 'none' : GATE_BREAKER_ACTIONS.baseline,
  };
}

/** The comparison as the approver reads it: the candidate beside its best baseline. */
export interface BaselineSummary {
  /** The candidate's mean out-of-sample session return, fraction per session; null: none. */
  readonly candidateMeanReturn: number | null;
  /** The candidate's out-of-sample sessions compared, count. */
  readonly candidateSessions: number;
  /** The best baseline (`flat`, or `buy_and_hold <symbol>`); null without a figure. */
  readonly bestBaseline: string | null;
  /** Its mean session return on the same dates, fraction per session; null: none. */
  readonly bestMeanReturn: number | null;
  /** Its sessions with a figure, count. */
  readonly bestSessions: number;
  /** Out-of-sample dates without a baseline figure (the gate failed closed on them). */
  readonly missingDates: string[];
}

/** {@link BaselineSummary} of a comparison (the best baseline = the highest mean). */
export function baselineSummary(c: BaselineComparison): BaselineSummary {
  const best = c.baselines
    .filter((b) => b.meanReturn !== null && Number.isFinite(b.meanReturn))
    .sort((a, b) => (b.meanReturn as number) - (a.meanReturn as number))[0];
  return {
    candidateMeanReturn: c.candidateMeanReturn,
    candidateSessions: c.sessionDates.length,
    bestBaseline: best ? nameOf(best) : null,
    bestMeanReturn: best?.meanReturn ?? null,
    bestSessions: best?.n ?? 0,
    missingDates: [...c.missingDates],
  };
}

/**
 * "candidate -0.104% per session (n=2) vs best baseline flat 0% per session (n=2), out of
 * sample on the same sessions, bars and costs" (and the dates without a baseline, if any).
 */
export function describeBaselineSummary(s: BaselineSummary): string {
  const best =
    s.bestBaseline === null
      ? 'no baseline figure'
      : `best baseline ${s.bestBaseline} ${pct(s.bestMeanReturn)} per session (n=${s.bestSessions})`;
  const missing =
    s.missingDates.length > 0 ? `; no baseline recorded for ${s.missingDates.join(', ')}` : '';
  return `candidate ${pct(s.candidateMeanReturn)} per session (n=${s.candidateSessions}) vs ${best}, out of sample on the same sessions, bars and costs${missing}`;
}
