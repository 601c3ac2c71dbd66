/**
 * Shapes of the promotion pipeline (`statemachines/promotion-pipeline.asl.json`): its
 * configuration, the staged (frozen) candidate and its orders. Money in USD, quantities in
 * shares, times UTC ISO-8601. No shape here carries a time that steps read as "now": every
 * step reads the `Clock` port.
 */
import * as z from 'zod';
import { parseOrThrow } from '../errors.js';
import { ORDER_STATUSES } from '../orders/order.js';
import { PaperSlotRulesSchema } from '../paper/paper-slot.js';
import { SliceRollbackSchema } from '../paper/slice-rollback.js';

/** Pipeline settings from the per-environment config (no hidden defaults in the code path). */
export const PromotionConfigSchema = z.strictObject({
  /** Capital slice of a promotion as a fraction of the cohort bankroll, (0, 1]. */
  capitalSliceFraction: z.number().gt(0).max(1),
  /** Smallest capital slice, USD (a slice below it is raised to it, capped at the bankroll). */
  minCapitalSliceUsd: z.number().min(0),
  /** Seconds between order status polls. */
  pollIntervalSeconds: z.number().int().min(1).max(3600),
  /** Polls before open orders are canceled and the promotion is reconciled as is. */
  maxPolls: z.number().int().min(1).max(500),
  /** Seconds between promotion-window checks while waiting for it to open. */
  windowCheckSeconds: z.number().int().min(1).max(86_400),
  /** Quantity tolerance of reconciliation, shares. */
  reconcileQtyTolerance: z.number().min(0),
  /** Trade whole shares only (false: fractional to 1e-6 share, as Alpaca allows for market day orders). */
  wholeShares: z.boolean(),
  /**
   * The paper slot's incumbent/challenger rules (`paper/paper-slot.ts`); absent: the
   * conservative `DEFAULT_PAPER_SLOT_RULES` (10 bps a day, 3 sessions each side).
   */
  paperSlot: PaperSlotRulesSchema.optional(),
});
export type PromotionConfig = z.infer<typeof PromotionConfigSchema>;

/**
 * Parses a promotion config.
 * @throws ValidationError naming `promotion.<field>` when a field is missing or out of range.
 */
export function parsePromotionConfig(input: unknown): PromotionConfig {
  return parseOrThrow(PromotionConfigSchema, input, 'promotion');
}

/**
 * What starts a promotion. Strict: an unknown key (e.g. `replayStartIso`, `now`, `clock`) is
 * refused, never stripped, so no execution input can tell the gates what time it is.
 */
export const PromotionRequestSchema = z.strictObject({
  source: z.enum(['cli', 'schedule', 'event', 'test']),
  /** Cohort whose best candidate to promote; absent: the most recent complete cohort. */
  cohortId: z.string().min(1).optional(),
  /** Promote this agent instead of the cohort's best (an approved Day-3 candidate). */
  agentId: z.string().min(1).optional(),
  /** Capital slice in USD instead of the configured fraction (the micro-live slice). */
  capitalSliceUsd: z.number().positive().optional(),
  /** The human approval this promotion acts on (Day-3 go/no-go), recorded with it. */
  approvalId: z.string().min(1).optional(),
  /**
   * Trades behind an approved candidate (Day-3: its lineage's total over three sessions);
   * replaces the cohort's one-day count in the minimum-trade gate.
   */
  evidenceTradeCount: z.number().int().min(0).optional(),
  /**
   * A micro-live slice's rollback thresholds and Day 1-3 minute-return variance (Day-3): its
   * paper session runs the slice's rollback monitor on the broker's equity every tick.
   */
  sliceRollback: SliceRollbackSchema.optional(),
  /**
   * Calendar of the cohorts a scheduled promotion reads (`market-calendar.ts`): `equity-usa`
   * (NYSE sessions, New York window; the default) or `crypto` (24 h UTC sessions, UTC window).
   * It picks which "today" the previous session is counted from; with `cohortId` the cohort's
   * own market wins.
   */
  market: z.enum(['equity-usa', 'crypto']).optional(),
  /** Set by Step Functions on a nested execution (links it to its parent in the console). */
  AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.string().min(1).optional(),
});
export type PromotionRequest = z.infer<typeof PromotionRequestSchema>;

export const PromotionStatusSchema = z.enum([
  'staged',
  'gates_failed',
  'window_expired',
  'submitted',
  'promoted',
  'halted',
  'failed',
]);

/** A candidate frozen for promotion: what was staged can no longer change. */
export const StagedPromotionSchema = z.object({
  promotionId: z.string().min(1),
  cohortId: z.string().min(1),
  sessionDate: z.string(),
  /**
   * Calendar of the candidate's symbol (its cohort's market): the window, the gates' session
   * and the paper session's date and close come from it. Absent (records staged before it
   * existed): `equity-usa`.
   */
  market: z.enum(['equity-usa', 'crypto']).optional(),
  agentId: z.string(),
  agentRank: z.number().int().positive(),
  genome: z.object({
    id: z.string(),
    family: z.string(),
    symbol: z.string(),
    generation: z.number().int(),
    parentIds: z.array(z.string()),
    params: z.record(z.string(), z.number()),
  }),
  /** SHA-256 of the canonical JSON of {cohort config, genome, gate thresholds, promotion config}. */
  configHash: z.string().regex(/^[0-9a-f]{64}$/),
  bankrollUsd: z.number().positive(),
  capitalSliceUsd: z.number().positive(),
  /** Candidate figures from its cohort, used by the gates. */
  metrics: z.object({
    totalPnlUsd: z.number(),
    sharpe: z.number(),
    /** The candidate agent's drawdown from its own peak equity, fraction. */
    maxDrawdownFraction: z.number(),
    /** The parent wallet's (bankroll's) drawdown from its peak, fraction. */
    parentMaxDrawdownFraction: z.number(),
    /**
     * Trade count the `min_trade_count` gate compares: round trips of the candidate in its
     * cohort session (`scoring/round-trips.ts`), or the Day-3 evidence's count when given.
     */
    tradeCount: z.number().int(),
    /** Fills of the candidate in its cohort session, count (reported beside round trips). */
    fillCount: z.number().int().min(0).optional(),
  }),
  /** `<broker name>:<account id>`, e.g. `simulated:paper-1`. */
  broker: z.string(),
  /** Set when a human approved this promotion (Day-3 micro-live). */
  approvalId: z.string().nullable(),
  /**
   * The micro-live slice's rollback monitor settings (from the request); null or absent: not
   * given (an approved promotion without them fails closed at its first tick).
   */
  sliceRollback: SliceRollbackSchema.nullable().optional(),
  /**
   * The sessions whose minute P&L the VaR / ES gates pool, oldest first, each the SAME genome's
   * agent in one cohort (the Day-3 review passes the candidate's own sessions); absent: the
   * promotion's own cohort session only.
   */
  riskSessions: z
    .array(z.object({ cohortId: z.string().min(1), agentId: z.string().min(1) }))
    .optional(),
  status: PromotionStatusSchema,
  statusReason: z.string(),
  stagedAtIso: z.string(),
});
export type StagedPromotion = z.infer<typeof StagedPromotionSchema>;

/** The Order entity's snapshot as stored (see functions/core/orders/order.ts). */
export const OrderSnapshotSchema = z.object({
  clientOrderId: z.string().max(48),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  qty: z.number().positive(),
  type: z.enum(['market', 'limit']),
  limitPriceUsd: z.number().nullable(),
  timeInForce: z.enum(['day', 'gtc', 'opg', 'cls', 'ioc', 'fok']),
  status: z.enum(ORDER_STATUSES),
  filledQty: z.number().min(0),
  avgFillPriceUsd: z.number().nullable(),
  brokerOrderId: z.string().nullable(),
  statusBeforePending: z.enum(ORDER_STATUSES).nullable(),
  replacedByClientOrderId: z.string().nullable(),
  rejectReason: z.string().nullable(),
  createdAtMs: z.number(),
  updatedAtMs: z.number(),
});

/** One order of a promotion as we track it (our side of reconciliation). */
export const PromotionOrderSchema = z.object({
  promotionId: z.string(),
  leg: z.string(),
  attempt: z.number().int().positive(),
  /** Filled quantity already applied to the local position book, shares. */
  bookedQty: z.number().min(0),
  /** Fees (as the broker reported them) already booked, USD. */
  bookedFeesUsd: z.number().min(0).optional(),
  /**
   * What the booked shares cost, USD (sum of shares x fill price over the booked fills):
   * prices the fills booked later. Absent on orders saved before it existed (all their fills
   * booked): `bookedQty` x the order's average fill price.
   */
  bookedNotionalUsd: z.number().min(0).optional(),
  order: OrderSnapshotSchema,
});
export type PromotionOrder = z.infer<typeof PromotionOrderSchema>;
