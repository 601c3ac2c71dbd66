/**
 * The evidence gates of the Day-3 go/no-go: is the candidate's own track record long and good
 * enough that its Sharpe ratio means something?
 *
 * - `psr`: the probabilistic Sharpe ratio PSR(0) of the candidate's session returns
 *   (Bailey & López de Prado 2012) must reach `minPsr`;
 * - `dsr`: the deflated Sharpe ratio, the PSR against the expected maximum Sharpe ratio of
 *   every distinct genome evaluated since the pool was seeded (Bailey & López de Prado 2014),
 *   must reach `minDsr`;
 * - `oos`: walk-forward, out of sample: at least `minOutOfSampleSessions` sessions after the
 *   last one the candidate's selection looked at, with a positive mean session return (net of
 *   fees). Fewer sessions fails as "insufficient evidence"; a loss out of sample fails with
 *   its measured mean ("not positive out of sample").
 * - `baseline`: the same out-of-sample sessions must beat the cohort baselines (flat and
 *   buy-and-hold of the candidate's symbol) on the same bars and costs (`baseline.ts`).
 *
 * Both fail closed on missing evidence, and both fail as "insufficient evidence" when the
 * track record has fewer than `minEvidenceSessions` sessions, whatever the statistic says: the
 * reason then names the numbers that fall short (sessions, PSR/DSR, the minimum track record
 * length).
 *
 * A failed evidence gate is either a shortfall of evidence or evidence against the candidate
 * ({@link classifyEvidenceFailures}): the Day-3 verdict is `insufficient_evidence` (which
 * only the local demo override looks past) when every failure is a shortfall, and
 * `gates_failed` (never overridable) when one is against. Pure.
 */
import type { SharpeEvidence } from '../scoring/sharpe-inference.js';
import { type BaselineComparison, baselineGate } from './baseline.js';
import type { GateThresholds } from './thresholds.js';
import { GATE_BREAKER_ACTIONS, type GateResult } from './types.js';

const fmt = (x: number): string => String(Number(x.toPrecision(4)));
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

type EvidenceThresholds = Pick<
  GateThresholds,
  'minPsr' | 'minDsr' | 'minEvidenceSessions' | 'minOutOfSampleSessions'
>;

/** The out-of-sample part of the evidence the `oos` gate reads (see `day3-evidence.ts`). */
export interface OutOfSampleEvidence {
  /** Last session date the selection looked at, `YYYY-MM-DD`. */
  readonly selectionCutoffDate: string;
  readonly outOfSample: {
    readonly n: number;
    readonly meanReturn: number | null;
    readonly sessionDates: readonly string[];
  };
  readonly inSample: { readonly n: number; readonly meanReturn: number | null };
}

/** How the evidence reads in a reason: sample, frequency, Sharpe and shape. */
export function describeEvidence(e: SharpeEvidence): string {
  return (
    `n=${e.n} ${e.frequency} returns, Sharpe ${fmt(e.sharpe)} per ${e.frequency} ` +
    `(not annualized), skewness ${fmt(e.skewness)}, kurtosis ${fmt(e.kurtosis)}`
  );
}

const trl = (x: number | null): string => (x === null ? 'never' : `${Math.ceil(x)}`);

/**
 * A full track record (at least `minEvidenceSessions` returns) whose observed Sharpe ratio is
 * not positive: PSR(0) = Φ(SR·√(n − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²)) <= 1/2 (Bailey &
 * López de Prado 2012, eq. 11, the probability that the true Sharpe ratio exceeds SR* = 0;
 * its denominator is positive, so PSR(0) <= 1/2 exactly when SR <= 0), i.e. the true Sharpe
 * ratio is at least as likely to be non-positive as positive, and no longer record would make
 * the PSR pass (the minimum track record length is infinite for SR <= SR*, eq. 13). A `psr` or
 * `dsr` failure on such a record is evidence against the candidate, not a shortage of
 * evidence (the DSR's benchmark E[max SR] is >= 0, so DSR <= PSR(0) <= 1/2 too).
 * False without the record's size and Sharpe ratio, or without a finite `minEvidenceSessions`.
 */
export function fullRecordWithoutEdge(
  e: { readonly n?: number; readonly sharpe?: number } | null | undefined,
  t: Pick<EvidenceThresholds, 'minEvidenceSessions'>,
): boolean {
  return (
    isFiniteNumber(t.minEvidenceSessions) &&
    isFiniteNumber(e?.n) &&
    isFiniteNumber(e?.sharpe) &&
    e.n >= t.minEvidenceSessions &&
    e.sharpe <= 0
  );
}

const AGAINST =
  'Sharpe ratio not positive on a full record (PSR(0) <= 0.5): evidence against the candidate, not a shortage of evidence';

function gate(
  name: 'psr' | 'dsr',
  e: SharpeEvidence | null | undefined,
  t: EvidenceThresholds,
): GateResult {
  const min = name === 'psr' ? t.minPsr : t.minDsr;
  const unit = 'probability';
  const fail = (observed: number | null, reason: string): GateResult => ({
    gate: name,
    verdict: 'fail',
    observed,
    threshold: min,
    unit,
    reason,
    breakerAction: GATE_BREAKER_ACTIONS[name],
  });
  if (!isFiniteNumber(min) || !isFiniteNumber(t.minEvidenceSessions)) {
    return fail(null, `threshold for ${name.toUpperCase()} missing: failing closed`);
  }
  if (!e) return fail(null, 'no track record of the candidate: failing closed');
  const value = name === 'psr' ? e.psr : e.dsr;
  const needed = name === 'psr' ? e.minTrackRecordLength : e.minTrackRecordLengthDeflated;
  const against =
    name === 'psr'
      ? `against SR* ${fmt(e.benchmarkSharpe)}`
      : `against E[max SR] ${e.expectedMaxSharpe === null ? 'n/a' : fmt(e.expectedMaxSharpe)} of ${e.trials} trials (V[SR] ${e.trialSharpeVariance === null ? 'n/a' : fmt(e.trialSharpeVariance)} from ${e.trialSharpeVarianceSource === 'trials' ? `${e.trialsWithSharpe} trials` : 'the estimator'})`;
  const stats = `${name.toUpperCase()} ${value === null ? 'undefined' : fmt(value)} ${against}; ${describeEvidence(e)}; ${trl(needed)} sessions needed at ${fmt(e.confidence)}`;
  if (e.n < t.minEvidenceSessions) {
    return fail(
      value,
      `insufficient evidence: ${e.n} sessions < ${t.minEvidenceSessions} required; ${stats}`,
    );
  }
  const verdictOnEdge = fullRecordWithoutEdge(e, t) ? `; ${AGAINST}` : '';
  if (value === null) return fail(null, `${stats}: failing closed${verdictOnEdge}`);
  const pass = value >= min;
  return {
    gate: name,
    verdict: pass ? 'pass' : 'fail',
    observed: value,
    threshold: min,
    unit,
    reason: `${stats}; ${pass ? 'meets' : 'is below'} min ${fmt(min)}${pass ? '' : verdictOnEdge}`,
    breakerAction: pass ? 'none' : GATE_BREAKER_ACTIONS[name],
  };
}

/** The `psr` gate (see the module comment). */
export function psrGate(e: SharpeEvidence | null | undefined, t: EvidenceThresholds): GateResult {
  return gate('psr', e, t);
}

/** The `dsr` gate (see the module comment). */
export function dsrGate(e: SharpeEvidence | null | undefined, t: EvidenceThresholds): GateResult {
  return gate('dsr', e, t);
}

const pctOf = (x: number | null): string => (x === null ? 'n/a' : `${fmt(x * 100)}%`);

/** The `oos` gate (see the module comment): observed = the mean out-of-sample session return. */
export function oosGate(
  e: OutOfSampleEvidence | null | undefined,
  t: Pick<EvidenceThresholds, 'minOutOfSampleSessions'>,
): GateResult {
  const min = t.minOutOfSampleSessions;
  const base = { gate: 'oos' as const, threshold: 0, unit: 'fraction per session' };
  const fail = (observed: number | null, reason: string): GateResult => ({
    ...base,
    verdict: 'fail',
    observed,
    reason,
    breakerAction: GATE_BREAKER_ACTIONS.oos,
  });
  if (!isFiniteNumber(min))
    return fail(null, 'threshold minOutOfSampleSessions missing: failing closed');
  if (!e?.outOfSample)
    return fail(null, 'no out-of-sample record of the candidate: failing closed');
  const o = e.outOfSample;
  const stats =
    `out of sample (after ${e.selectionCutoffDate}): n=${o.n} sessions` +
    `${o.sessionDates.length > 0 ? ` [${o.sessionDates.join(', ')}]` : ''}, mean ${pctOf(o.meanReturn)} per session; ` +
    `in sample: n=${e.inSample.n}, mean ${pctOf(e.inSample.meanReturn)} per session`;
  if (o.n < min) {
    return fail(
      o.meanReturn,
      `insufficient evidence: ${o.n} out-of-sample sessions < ${min} required; ${stats}`,
    );
  }
  if (o.meanReturn === null || !Number.isFinite(o.meanReturn)) {
    return fail(null, `${stats}: failing closed`);
  }
  const pass = o.meanReturn > 0;
  return {
    ...base,
    verdict: pass ? 'pass' : 'fail',
    observed: o.meanReturn,
    reason: `${stats}; ${pass ? 'positive' : 'not positive'} out of sample`,
    breakerAction: pass ? 'none' : GATE_BREAKER_ACTIONS.oos,
  };
}

/**
 * Every evidence gate, in `EVIDENCE_GATE_NAMES` order. The `oos` gate fails closed when the
 * evidence has no out-of-sample part, the `baseline` gate when it has no baseline comparison.
 */
export function evaluateEvidenceGates(
  e:
    | (SharpeEvidence &
        Partial<OutOfSampleEvidence> & { readonly baselines?: BaselineComparison | null })
    | null
    | undefined,
  t: EvidenceThresholds,
): GateResult[] {
  const oos =
    e?.outOfSample && e.inSample && e.selectionCutoffDate ? (e as OutOfSampleEvidence) : null;
  return [psrGate(e, t), dsrGate(e, t), oosGate(oos, t), baselineGate(e?.baselines)];
}

/** What a failed evidence gate says about the candidate (see {@link classifyEvidenceFailures}). */
export interface EvidenceFailures {
  /** Too little evidence: `psr` / `dsr` on a short record or a positive Sharpe ratio, or `oos` / `baseline` on too few sessions. */
  readonly shortfall: GateResult[];
  /**
   * Evidence against: `psr` / `dsr` on a full record with a non-positive Sharpe ratio, a
   * measured out-of-sample loss or shortfall to a baseline, or a fail closed.
   */
  readonly against: GateResult[];
}

/**
 * Splits the failed evidence gates into a shortfall of evidence and evidence against the
 * candidate:
 * - `psr`, `dsr`: against on a full track record (at least `minEvidenceSessions` sessions)
 *   whose Sharpe ratio is not positive ({@link fullRecordWithoutEdge}: PSR(0) <= 1/2, Bailey &
 *   López de Prado 2012, eq. 11); a shortfall otherwise (the record is too short, or its
 *   positive Sharpe ratio is not yet distinguishable from zero or from the best of the trials:
 *   a longer record could pass), unless its threshold is missing (fail closed: against);
 * - `oos`: a shortfall with fewer than `minOutOfSampleSessions` out-of-sample sessions;
 *   against with at least that many (the mean is measured and not positive, or not finite);
 * - `baseline`: a shortfall with fewer than `minOutOfSampleSessions` compared sessions;
 *   against with at least that many (the candidate's mean is measured and not above the best
 *   baseline's, a session lacks its baseline, or a figure is not finite).
 * A missing threshold, or evidence without its out-of-sample part, counts as against.
 *
 * @param results the evidence gates' results (passes are ignored).
 * @param e the evidence they judged: its out-of-sample sample size and compared sessions.
 */
export function classifyEvidenceFailures(
  results: readonly GateResult[],
  e:
    | {
        /** Sessions of the whole track record, count (the `psr` / `dsr` sample). */
        readonly n?: number;
        /** Its Sharpe ratio per session (not annualized). */
        readonly sharpe?: number;
        readonly outOfSample?: { readonly n: number } | null;
        readonly baselines?: { readonly sessionDates: readonly string[] } | null;
      }
    | null
    | undefined,
  t: EvidenceThresholds,
): EvidenceFailures {
  const min = t.minOutOfSampleSessions;
  const fewer = (n: number | undefined): boolean =>
    isFiniteNumber(min) && n !== undefined && n < min;
  const sharpeShort = (minStat: number): boolean =>
    isFiniteNumber(minStat) &&
    isFiniteNumber(t.minEvidenceSessions) &&
    !fullRecordWithoutEdge(e, t);
  const isShort = (r: GateResult): boolean => {
    if (r.gate === 'psr') return sharpeShort(t.minPsr);
    if (r.gate === 'dsr') return sharpeShort(t.minDsr);
    if (r.gate === 'oos') return fewer(e?.outOfSample?.n);
    if (r.gate === 'baseline') return fewer(e?.baselines?.sessionDates.length);
    return false;
  };
  const failed = results.filter((r) => r.verdict === 'fail');
  return {
    shortfall: failed.filter(isShort),
    against: failed.filter((r) => !isShort(r)),
  };
}
