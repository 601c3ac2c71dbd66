/**
 * Incumbent and challenger for one paper slot (issue "Paper trading for real", item 5): a
 * promoted genome is the incumbent and trades every session until it is demoted (rollback,
 * kill switch, failing its gates at the morning re-check) or replaced by a challenger whose
 * evidence beats it by a configured margin.
 *
 * The decision, as a risk officer would take it (docs/execution.md, "Incumbent and
 * challenger"):
 * - one slot, one strategy: never both at once (no doubled exposure while they are compared);
 * - no incumbent (none yet, or demoted): the challenger takes the slot;
 * - otherwise the incumbent keeps it unless the challenger's evidence is at least as long as
 *   `minChallengerSessions` AND its mean daily return beats the incumbent's by `marginDailyReturn`.
 *   Like is compared with like where possible: the incumbent's figure is its PAPER track
 *   record (broker fills, parity-checked); the challenger has only simulated (cohort) sessions,
 *   which flatter (the parity record's `cohortFlatteryUsd`), so its figure is taken net of the
 *   incumbent's own measured flattery per session (cohort return − paper return, mean over
 *   the incumbent's sessions, never negative);
 * - an incumbent with fewer than `minIncumbentSessions` paper sessions is kept (its record is
 *   still being written: replacing it on noise would churn the slot);
 * - insufficient or tied evidence keeps the incumbent: switching is the act that needs
 *   evidence, the status quo is already measured on paper.
 *
 * Returns fractions of capital per session (daily returns). Pure.
 */
import * as z from 'zod';
import type { PaperTrackRecord } from './track-record.js';

/** The slot's settings (the per-environment `pipeline.paperSlot`). */
export const PaperSlotRulesSchema = z.strictObject({
  /** How much the challenger's mean daily return must exceed the incumbent's, fraction (>= 0). */
  marginDailyReturn: z.number().min(0).max(1),
  /** Sessions of evidence the challenger needs to be considered, count (1..30). */
  minChallengerSessions: z.number().int().min(1).max(30),
  /** Paper sessions the incumbent trades before it can be replaced, count (0..250). */
  minIncumbentSessions: z.number().int().min(0).max(250),
});
export type PaperSlotRules = z.infer<typeof PaperSlotRulesSchema>;

/** Conservative defaults: 10 bps a day, 3 sessions each side. */
export const DEFAULT_PAPER_SLOT_RULES: PaperSlotRules = {
  marginDailyReturn: 0.001,
  minChallengerSessions: 3,
  minIncumbentSessions: 3,
};

/** The slot's decision, with the figures it rests on (one audit record). */
export interface PaperSlotDecision {
  /**
   * `retire_incumbent`: the incumbent cannot be re-checked this morning (it did not run in the
   * session the challenger comes from: no evidence for its gates), so it leaves the slot and
   * the challenger takes it ({@link retireIncumbent}).
   */
  readonly decision:
    | 'promote_challenger'
    | 'keep_incumbent'
    | 'replace_incumbent'
    | 'retire_incumbent';
  readonly reason: string;
  /** The incumbent's mean paper daily return, fraction; null without an incumbent. */
  readonly incumbentMeanReturn: number | null;
  /** The challenger's mean cohort daily return net of the measured flattery, fraction. */
  readonly challengerMeanReturn: number | null;
  /** Mean (cohort − paper) daily return of the incumbent, fraction (>= 0). */
  readonly flattery: number;
}

const mean = (xs: readonly number[]) =>
  xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
const pct = (x: number) => `${(x * 100).toFixed(3)}%`;

/**
 * Decides who trades the slot next session (see the module comment).
 *
 * @param input.incumbent the incumbent's paper track record, or null (none, or demoted).
 * @param input.challenger the challenger's cohort daily returns (PnL / capital), oldest first.
 */
export function decidePaperSlot(input: {
  readonly incumbent: PaperTrackRecord | null;
  readonly challenger: { readonly genomeId: string; readonly dailyReturns: readonly number[] };
  readonly rules?: PaperSlotRules;
}): PaperSlotDecision {
  const rules = input.rules ?? DEFAULT_PAPER_SLOT_RULES;
  const inc = input.incumbent;
  const ch = input.challenger;
  if (!inc) {
    return {
      decision: 'promote_challenger',
      reason: `no incumbent holds the slot: ${ch.genomeId} takes it`,
      incumbentMeanReturn: null,
      challengerMeanReturn: ch.dailyReturns.length > 0 ? mean(ch.dailyReturns) : null,
      flattery: 0,
    };
  }
  if (inc.genomeId === ch.genomeId) {
    return keep(inc, null, 0, `${ch.genomeId} is the incumbent`);
  }
  const incMean = mean(inc.dailyReturns);
  const flattery = Math.max(
    0,
    mean(inc.sessions.map((s) => (s.cohortPnlUsd - s.paperPnlUsd) / s.capitalUsd)),
  );
  if (inc.sessions.length < rules.minIncumbentSessions) {
    return keep(
      inc,
      null,
      flattery,
      `the incumbent ${inc.genomeId} has ${sessionCount(inc.sessions.length)} < ${rules.minIncumbentSessions}: its record is still being written`,
    );
  }
  if (ch.dailyReturns.length < rules.minChallengerSessions) {
    return keep(
      inc,
      null,
      flattery,
      `the challenger ${ch.genomeId} has ${ch.dailyReturns.length} sessions of evidence < ${rules.minChallengerSessions}`,
    );
  }
  const chMean = mean(ch.dailyReturns) - flattery;
  const needed = incMean + rules.marginDailyReturn;
  const figures = `challenger ${pct(chMean)}/day (cohort, net of the incumbent's flattery ${pct(flattery)}) vs incumbent ${pct(incMean)}/day on paper + margin ${pct(rules.marginDailyReturn)}`;
  if (chMean > needed) {
    return {
      decision: 'replace_incumbent',
      reason: `${ch.genomeId} replaces ${inc.genomeId}: ${figures}`,
      incumbentMeanReturn: incMean,
      challengerMeanReturn: chMean,
      flattery,
    };
  }
  return keep(inc, chMean, flattery, `${inc.genomeId} keeps the slot: ${figures}`);
}

function keep(
  inc: PaperTrackRecord,
  challengerMeanReturn: number | null,
  flattery: number,
  reason: string,
): PaperSlotDecision {
  return {
    decision: 'keep_incumbent',
    reason,
    incumbentMeanReturn: mean(inc.dailyReturns),
    challengerMeanReturn,
    flattery,
  };
}

/**
 * The incumbent leaves the slot without a comparison: `why` names what it lacks (it did not run
 * in the session its morning re-check reads). The challenger takes the slot. Pure.
 */
export function retireIncumbent(input: {
  readonly incumbent: PaperTrackRecord;
  readonly challenger: { readonly genomeId: string; readonly dailyReturns: readonly number[] };
  readonly why: string;
}): PaperSlotDecision {
  const { incumbent: inc, challenger: ch } = input;
  return {
    decision: 'retire_incumbent',
    reason: `the incumbent ${inc.genomeId} is retired: ${input.why}; ${ch.genomeId} takes the slot`,
    incumbentMeanReturn: inc.sessions.length > 0 ? mean(inc.dailyReturns) : null,
    challengerMeanReturn: ch.dailyReturns.length > 0 ? mean(ch.dailyReturns) : null,
    flattery: 0,
  };
}

/** "1 paper session", "2 paper sessions". */
function sessionCount(n: number): string {
  return `${n} paper session${n === 1 ? '' : 's'}`;
}
