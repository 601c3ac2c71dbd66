/**
 * The Day-3 approval request as the domain sees it: what the approver is shown (the candidate
 * summary, gate table, capital slice, leverage, equity curve), who may decide, and the
 * decision vocabulary. Zod schemas validate everything that crosses a boundary (store,
 * Step Functions payload). Money in USD, rates as fractions, times epoch ms UTC or UTC ISO-8601
 * when named `...Iso`.
 */
import * as z from 'zod';
import { GATE_NAMES, GATE_VERDICTS } from '../gates/types.js';
import { approvalChainSchema, approverIdSchema } from './chain.js';

/**
 * Opaque approval id: 16-64 URL-safe characters (a 128-bit random id in base64url is 22, a
 * ULID 26). It is the only identifier that travels in links and Slack buttons.
 */
export const APPROVAL_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** Zod schema of an approval id (see {@link APPROVAL_ID_PATTERN}). */
export const approvalIdSchema = z
  .string()
  .regex(APPROVAL_ID_PATTERN, 'must be 16-64 [A-Za-z0-9_-]');

export { approverIdSchema };

/** What a human decided. */
export const APPROVAL_DECISIONS = ['approved', 'rejected'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** Lifecycle of an approval request: `pending` until decided once. */
export type ApprovalStatus = 'pending' | ApprovalDecision;

/** Through which door the decision came in (audit payload). */
export type ApprovalChannel = 'web' | 'slack' | 'cli';

/** zod 4 numbers already reject NaN and ±Infinity. */
const finite = z.number();

/** One gate row of the approval summary: the `GateResult` shape (functions/core/gates/types.ts). */
export const gateResultSchema = z.object({
  gate: z.enum(GATE_NAMES),
  verdict: z.enum(GATE_VERDICTS),
  observed: z.union([finite, z.string().max(500), z.null()]),
  threshold: z.union([finite, z.string().max(500), z.null()]),
  unit: z.string().max(200),
  reason: z.string().max(2000),
  breakerAction: z.enum(['none', 'pause_entries', 'reduce_only', 'flatten']),
});

/** The candidate's Day 1-3 results shown to the approver. */
export const candidateMetricsSchema = z.object({
  /** Total PnL over the evaluation days, net of fees, USD. */
  totalPnlUsd: finite,
  /** totalPnl / allocation, fraction. */
  roi: finite,
  /**
   * Sharpe ratio of the candidate genome's own session returns, PER SESSION (not annualized),
   * risk-free 0, over `sharpeSessions` sessions (docs/evidence.md).
   */
  sharpe: finite,
  /** Sessions the Sharpe ratio is computed on (absent in requests made before it). */
  sharpeSessions: z.number().int().min(0).optional(),
  /**
   * The per-session Sharpe × √252, only on at least `minEvidenceSessions` sessions; null below
   * (absent in requests made before it).
   */
  annualizedSharpe: finite.nullable().optional(),
  /** Worst daily drawdown of the agent from its own peak equity, fraction. */
  maxDrawdownFraction: z.number().min(0),
  /** Round-trip trades. */
  tradeCount: z.number().int().min(0),
  /** Sessions the results cover (the candidate's reviewed sessions, 2 or 3 for Day 3). */
  sessions: z.number().int().min(1),
  /** Mean in-sample session return (sessions the selection saw), fraction. */
  inSampleRoi: finite.optional(),
  inSampleSessions: z.number().int().min(0).optional(),
  /** Mean out-of-sample session return (walk-forward: sessions after the selection), fraction. */
  outOfSampleRoi: finite.optional(),
  outOfSampleSessions: z.number().int().min(0).optional(),
  /**
   * The genome's paper sessions up to Day 3 (its paper track record), count; absent in
   * requests made before the review read it.
   */
  paperSessions: z.number().int().min(0).optional(),
  /** Σ paper PnL of those sessions from the broker's fills, USD. */
  paperPnlUsd: finite.optional(),
  /** Of those sessions, at parity to the cent with the reference simulation, count. */
  paperParitySessions: z.number().int().min(0).optional(),
  /** Of those sessions, counted as returns in the evidence (at parity, reconciled), count. */
  paperCountedSessions: z.number().int().min(0).optional(),
  /**
   * The `baseline` gate's figures (`gates/baseline.ts` `BaselineSummary`): the candidate's
   * out-of-sample mean session return beside the best cohort baseline's on the same sessions,
   * fractions per session, with both sample sizes; absent in requests made before it, null
   * when no comparison was made.
   */
  baseline: z
    .object({
      candidateMeanReturn: finite.nullable(),
      candidateSessions: z.number().int().min(0),
      bestBaseline: z.string().max(100).nullable(),
      bestMeanReturn: finite.nullable(),
      bestSessions: z.number().int().min(0),
      missingDates: z.array(z.string()).max(31),
    })
    .nullable()
    .optional(),
});
export type CandidateMetrics = z.infer<typeof candidateMetricsSchema>;

/**
 * Everything an approver needs to decide, stored with the request and shown on the page and in
 * Slack. Strings are free text (escape before rendering).
 */
export const approvalSummarySchema = z.object({
  /** Frozen candidate id (the genome id the promotion pipeline staged). */
  candidateId: z.string().min(1).max(200),
  agentId: z.string().min(1).max(200),
  /** Strategy family of the genome (e.g. `momentum`). */
  family: z.string().min(1).max(100),
  symbol: z.string().min(1).max(20),
  /** Session dates `YYYY-MM-DD` the metrics cover, oldest first. */
  sessionDates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).max(31),
  metrics: candidateMetricsSchema,
  /** The gate table (every gate's verdict, observed value, threshold, reason). */
  gates: z.array(gateResultSchema).max(64),
  /** Parent bankroll the slice is carved from, USD. */
  bankrollUsd: z.number().positive(),
  /** Micro-live capital slice, USD (for example 5 % of the bankroll, min $50). */
  capitalSliceUsd: z.number().positive(),
  /** Leverage the slice starts at (ratio, "x"; the leverage policy starts at 2x). */
  leverage: z.number().min(1),
  /**
   * Set only when the request exists because of the local demo override (the evidence gates
   * failed): the label the page and the message show above everything else.
   */
  demoOverride: z.string().max(500).nullable().optional(),
  /** Link to the run report, or null when there is none. */
  reportUrl: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .nullable(),
});
export type ApprovalSummary = z.infer<typeof approvalSummarySchema>;

/** Largest equity curve stored with a request (points); downsample before (see page.ts). */
export const MAX_EQUITY_CURVE_POINTS = 2000;

/** Equity curve `[epoch ms UTC, equity USD]`, oldest first. */
export const equityCurveSchema = z
  .array(z.tuple([z.number(), z.number()]))
  .max(MAX_EQUITY_CURVE_POINTS);
export type EquityCurve = ReadonlyArray<readonly [number, number]>;

/** UTC ISO-8601 instant (`Z` offset), e.g. `2013-10-09T20:00:00.000Z`. */
const isoUtc = z.iso.datetime();

/**
 * A new approval request, as the request-approval step hands it to the store. The task token
 * is the Step Functions `.waitForTaskToken` token: secret, stored encrypted, never rendered.
 */
export const newApprovalRequestSchema = z
  .object({
    approvalId: approvalIdSchema,
    /** Step Functions task token (SendTaskSuccess accepts 1..2048 characters). */
    taskToken: z.string().min(1).max(2048),
    /** ARN of the waiting execution. */
    executionArn: z.string().min(1).max(2048),
    summary: approvalSummarySchema,
    /** Equity curve shown as a chart on the page (at most 2,000 points). */
    equityCurve: equityCurveSchema,
    /** Approver identities allowed to decide (at least one; an empty list would be "nobody"). */
    approvers: z.array(approverIdSchema).min(1).max(50),
    /**
     * The signatures the request needs, in order (functions/core/approval/chain.ts); every
     * approver of a step must be on `approvers`. Absent: one `risk` signature of any approver.
     */
    chain: approvalChainSchema.optional(),
    createdAtIso: isoUtc,
    /** After this instant the request can no longer be decided (timeout = reject). */
    expiresAtIso: isoUtc,
  })
  .refine((r) => Date.parse(r.expiresAtIso) > Date.parse(r.createdAtIso), {
    message: 'expiresAtIso must be after createdAtIso',
    path: ['expiresAtIso'],
  })
  .refine((r) => (r.chain ?? []).every((s) => s.approvers.every((a) => r.approvers.includes(a))), {
    message: 'every approver of a chain step must be on `approvers`',
    path: ['chain'],
  });
export type NewApprovalRequest = z.input<typeof newApprovalRequestSchema>;
