/**
 * The paper slot at staging (issue "Paper trading for real", item 5): the candidate a
 * scheduled promotion stages is the winner of the incumbent/challenger decision
 * (`paper/paper-slot.ts`, `decidePaperSlot`), not simply the preceding session's best agent.
 *
 * - The slot of a market is held by the genome of its latest pipeline-picked promotion
 *   (no approval: a Day-3 micro-live slice is its own slot) staged before today, if that
 *   promotion ended `promoted`. One that ended `gates_failed` (the morning re-check, or the kill
 *   switch failing closed) or `halted` (rollback, kill switch) was demoted: the slot is empty.
 *   `window_expired` and `failed` decide nothing (the promotion before them is read).
 * - The challenger is the preceding session's best candidate (`promotion-stage.ts`); its
 *   evidence is its cohort daily returns (PnL / allocation) in its own genome's recent sessions
 *   (`riskLookbackOf`), the incumbent's is its paper track record (`readPaperTrackRecord`).
 * - An incumbent that did not run in the challenger's cohort (bred out of the pool, another
 *   universe) has no evidence for its morning re-check: it is retired (`retireIncumbent`).
 * - An incumbent that keeps the slot is staged as its agent in that cohort: the gates re-check
 *   it on the preceding session, like any candidate.
 *
 * Money USD, returns fractions, dates New York (`equity-usa`) or UTC (`crypto`) `YYYY-MM-DD`.
 */
import { decisionProvenance } from '../audit/record.js';
import { type Market, marketDate } from '../calendar/market-calendar.js';
import {
  DEFAULT_PAPER_SLOT_RULES,
  decidePaperSlot,
  type PaperSlotDecision,
  retireIncumbent,
} from '../paper/paper-slot.js';
import { type PaperTrackRecord, readPaperTrackRecord } from '../paper/track-record.js';
import type { AgentRow, CohortRecord } from './cohort-records.js';
import {
  type PromotionDeps,
  promotionDraft,
  promotionMarket,
  promotionStream,
} from './promotion.js';
import type { StagedPromotion } from './promotion-records.js';
import { RISK_LOOKBACK_SESSIONS, riskLookbackOf } from './risk-lookback.js';

/** Promotions read (newest first) to find the slot's holder, count. */
export const SLOT_HISTORY_LIMIT = 50;

/** The slot's last decisive promotion: its genome holds the slot, or was demoted. */
export interface SlotHolder {
  readonly promotionId: string;
  readonly genomeId: string;
  readonly status: StagedPromotion['status'];
  readonly statusReason: string;
}

/** The slot decision at staging, with what it rests on. */
export interface SlotOutcome {
  /** The agent to stage (the incumbent's row in the cohort, or the challenger). */
  readonly candidate: AgentRow;
  readonly decision: PaperSlotDecision;
  /** The slot's last decisive promotion (null: the slot never held a genome). */
  readonly holder: SlotHolder | null;
  readonly incumbent: PaperTrackRecord | null;
  readonly challenger: {
    readonly agentId: string;
    readonly genomeId: string;
    readonly sessions: readonly {
      readonly cohortId: string;
      readonly agentId: string;
      readonly dailyReturn: number;
    }[];
  };
}

const DECISIVE = new Set<StagedPromotion['status']>(['promoted', 'gates_failed', 'halted']);

/**
 * The slot's holder in `market` as of today (the market's civil date of now): the newest
 * promotion staged before today by the pipeline's own pick (no approval) whose outcome decides
 * the slot (`promoted`, `gates_failed`, `halted`); null when there is none.
 */
export async function slotHolderOf(
  deps: Pick<PromotionDeps, 'clock' | 'promotions'>,
  market: Market,
): Promise<SlotHolder | null> {
  const tenure = await slotTenureOf(deps, market, { throughToday: false });
  return tenure?.holder ?? null;
}

/** The slot's holder with the promotions of its current, uninterrupted tenure. */
export interface SlotTenure {
  readonly holder: SlotHolder;
  /**
   * The holder's consecutive `promoted` promotions (newest first, the holder's own first), each
   * a paper session it traded after the decision that staged it; empty when it was demoted.
   */
  readonly promotions: readonly StagedPromotion[];
}

/**
 * The slot's holder in `market` ({@link slotHolderOf}) and its tenure. `throughToday`: also
 * reads promotions staged today (the Day-3 review after the close: today's finished paper
 * session counts; one still in flight is not decisive and is skipped).
 */
export async function slotTenureOf(
  deps: Pick<PromotionDeps, 'clock' | 'promotions'>,
  market: Market,
  options: { readonly throughToday: boolean },
): Promise<SlotTenure | null> {
  const today = marketDate(deps.clock.now(), market);
  const decisive = (await deps.promotions.listRecent(SLOT_HISTORY_LIMIT)).filter((p) => {
    const day = marketDate(Date.parse(p.stagedAtIso), market);
    return (
      p.approvalId === null &&
      promotionMarket(p) === market &&
      (options.throughToday ? day <= today : day < today) &&
      DECISIVE.has(p.status)
    );
  });
  const latest = decisive[0];
  if (!latest) return null;
  const promotions: StagedPromotion[] = [];
  for (const p of latest.status === 'promoted' ? decisive : []) {
    if (p.genome.id !== latest.genome.id || p.status !== 'promoted') break;
    promotions.push(p);
  }
  return {
    holder: {
      promotionId: latest.promotionId,
      genomeId: latest.genome.id,
      status: latest.status,
      statusReason: latest.statusReason,
    },
    promotions,
  };
}

/** The challenger's cohort daily returns (PnL / allocation) in its genome's recent sessions. */
async function challengerEvidence(
  deps: Pick<PromotionDeps, 'cohorts'>,
  cohort: CohortRecord,
  challenger: AgentRow,
  sessions: number,
): Promise<SlotOutcome['challenger']> {
  const lookback = await riskLookbackOf(
    deps.cohorts,
    cohort,
    challenger.agentId,
    challenger.genomeId,
    sessions,
  );
  const found: { cohortId: string; agentId: string; dailyReturn: number }[] = [];
  for (const s of lookback) {
    const record = s.cohortId === cohort.cohortId ? cohort : await deps.cohorts.get(s.cohortId);
    const row = record.leaderboard.find((r) => r.agentId === s.agentId);
    if (row && row.allocationUsd > 0) {
      found.push({ ...s, dailyReturn: row.totalPnlUsd / row.allocationUsd });
    }
  }
  return { agentId: challenger.agentId, genomeId: challenger.genomeId, sessions: found };
}

/**
 * Decides who trades the slot this session ({@link SlotOutcome}; module comment for the rule).
 *
 * @param challenger the preceding session's best candidate in `cohort`.
 * @throws TransientError (storage), ValidationError (a stored record failing its schema).
 */
export async function decideSlotAtStaging(
  deps: Pick<
    PromotionDeps,
    'clock' | 'promotions' | 'cohorts' | 'paperTrackRecord' | 'promotionConfig'
  >,
  cohort: CohortRecord,
  challenger: AgentRow,
): Promise<SlotOutcome> {
  const rules = deps.promotionConfig.paperSlot ?? DEFAULT_PAPER_SLOT_RULES;
  const market: Market = cohort.market ?? 'equity-usa';
  const holder = await slotHolderOf(deps, market);
  const evidence = await challengerEvidence(
    deps,
    cohort,
    challenger,
    Math.max(rules.minChallengerSessions, RISK_LOOKBACK_SESSIONS),
  );
  const ch = {
    genomeId: challenger.genomeId,
    dailyReturns: evidence.sessions.map((s) => s.dailyReturn),
  };
  const base = { holder, challenger: evidence };
  if (holder?.status !== 'promoted') {
    const d = decidePaperSlot({ incumbent: null, challenger: ch, rules });
    const why = holder
      ? `the slot's last holder ${holder.genomeId} was demoted (${holder.status}: ${holder.statusReason}); `
      : '';
    return {
      ...base,
      candidate: challenger,
      incumbent: null,
      decision: { ...d, reason: `${why}${d.reason}` },
    };
  }
  const incumbent = await readPaperTrackRecord(deps.paperTrackRecord, holder.genomeId);
  const row = cohort.leaderboard
    .filter((r) => r.genomeId === holder.genomeId)
    .sort((a, b) => a.rank - b.rank)[0];
  if (!row) {
    const why = `it did not run in cohort ${cohort.cohortId} of ${cohort.sessionDate} (no evidence for its morning re-check)`;
    return {
      ...base,
      candidate: challenger,
      incumbent,
      decision: retireIncumbent({ incumbent, challenger: ch, why }),
    };
  }
  const decision = decidePaperSlot({ incumbent, challenger: ch, rules });
  return {
    ...base,
    candidate: decision.decision === 'keep_incumbent' ? row : challenger,
    incumbent,
    decision,
  };
}

/** Records the slot decision (`paper_slot_decided`) on the staged promotion's stream. */
export async function recordSlotDecision(
  deps: Pick<PromotionDeps, 'audit' | 'environment' | 'promotionConfig'>,
  promotion: StagedPromotion,
  slot: SlotOutcome,
  resumed: boolean,
): Promise<void> {
  const rules = deps.promotionConfig.paperSlot ?? DEFAULT_PAPER_SLOT_RULES;
  const d = slot.decision;
  const inputs = {
    holder: slot.holder
      ? {
          promotion_id: slot.holder.promotionId,
          genome_id: slot.holder.genomeId,
          status: slot.holder.status,
        }
      : null,
    incumbent: slot.incumbent
      ? {
          genome_id: slot.incumbent.genomeId,
          paper_sessions: slot.incumbent.sessions.length,
          daily_returns: slot.incumbent.dailyReturns,
        }
      : null,
    challenger: {
      agent_id: slot.challenger.agentId,
      genome_id: slot.challenger.genomeId,
      sessions: slot.challenger.sessions.map((s) => ({
        cohort_id: s.cohortId,
        agent_id: s.agentId,
        daily_return: s.dailyReturn,
      })),
    },
  };
  await deps.audit.append(
    promotionDraft(
      deps,
      'paper_slot_decided',
      promotionStream(promotion.promotionId),
      {
        promotion_id: promotion.promotionId,
        cohort_id: promotion.cohortId,
        agent_id: promotion.agentId,
        genome_id: promotion.genome.id,
      },
      {
        decision: d.decision,
        reason: d.reason,
        staged_genome_id: promotion.genome.id,
        incumbent_mean_return: d.incumbentMeanReturn,
        challenger_mean_return: d.challengerMeanReturn,
        flattery: d.flattery,
        rules,
        ...inputs,
        provenance: decisionProvenance(rules, inputs),
        ...(resumed ? { resumed: true } : {}),
      },
    ),
  );
}
