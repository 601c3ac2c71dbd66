/**
 * Shapes that cross the workflow's boundaries: the cohort request (schedule or CLI input),
 * the step outputs the intraday-cohort state machine passes along, and the persisted cohort
 * record. Money in USD, rates as fractions, times UTC ISO-8601 (`...Iso`), session dates
 * `YYYY-MM-DD` in America/New_York.
 */
import * as z from 'zod';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'must be a real calendar date');

/**
 * What starts a cohort: an EventBridge Scheduler event (`source: 'schedule'`, with
 * `scheduledTime`) or the CLI (`source: 'cli'`, with `sessionDate`). Cohort settings are
 * validated separately by `parseCohortConfig` so the error names the exact field. Strict:
 * an unknown key (e.g. `replayStartIso`, `now`, `clock`) is refused, never stripped.
 */
export const CohortRequestSchema = z
  .strictObject({
    source: z.enum(['schedule', 'cli', 'test', 'console', 'slack']),
    /** UTC ISO-8601 time the schedule fired; the session date is its America/New_York date. */
    scheduledTime: z.string().datetime({ offset: true }).optional(),
    /** Session date to simulate, `YYYY-MM-DD` (takes precedence over `scheduledTime`). */
    sessionDate: isoDate.optional(),
    /** Ticker symbols, e.g. `["SPY","BAC"]` (1..20). */
    symbols: z
      .array(z.string().regex(/^[A-Za-z.]{1,10}$/, 'must be a ticker symbol'))
      .min(1)
      .max(20),
    bankrollUsd: z.number(),
    agentCount: z.number().optional(),
    allocation: z.string().optional(),
    seed: z.number().optional(),
    /** Calendar the session date is checked against. Default `equity-usa` (NYSE). */
    market: z.enum(['equity-usa', 'crypto']).optional(),
    /**
     * A partial (intraday) cohort: today's session on the bars that have ended by the
     * workflow's clock, labelled partial; promotions, the Day-3 evidence and learning cycles
     * never read it.
     */
    partial: z.boolean().optional(),
  })
  .refine((r) => r.sessionDate !== undefined || r.scheduledTime !== undefined, {
    message: 'either sessionDate or scheduledTime is required',
    path: ['sessionDate'],
  });
export type CohortRequest = z.infer<typeof CohortRequestSchema>;

/**
 * The agent's drawdown from its own peak equity, fraction: the persisted figure, or for rows
 * written before it existed `maxDrawdownFraction × bankroll / allocation` (the USD drawdown
 * over the allocation: never below the true figure, since the peak is at least the
 * allocation).
 */
export function agentDrawdownOfPeak(
  row: Pick<AgentRow, 'maxDrawdownOfPeakFraction' | 'maxDrawdownFraction' | 'allocationUsd'>,
  bankrollUsd: number,
): number {
  if (typeof row.maxDrawdownOfPeakFraction === 'number') return row.maxDrawdownOfPeakFraction;
  return row.allocationUsd > 0 ? (row.maxDrawdownFraction * bankrollUsd) / row.allocationUsd : 1;
}

/** One leaderboard row as persisted and printed. */
export const AgentRowSchema = z.object({
  rank: z.number().int().positive(),
  agentId: z.string(),
  genomeId: z.string(),
  family: z.string(),
  symbol: z.string(),
  allocationUsd: z.number(),
  totalPnlUsd: z.number(),
  realizedPnlUsd: z.number(),
  unrealizedPnlUsd: z.number(),
  feesUsd: z.number(),
  roi: z.number(),
  meanHourlyRoi: z.number(),
  sharpe: z.number(),
  /** Agent drawdown USD / parent bankroll, fraction. */
  maxDrawdownFraction: z.number(),
  /** Volatility of the session's minute returns scaled to the session, fraction (absent in older cohorts). */
  sessionVolatility: z.number().min(0).optional(),
  /** The agent's drawdown from its own peak equity, fraction (absent in older cohorts). */
  maxDrawdownOfPeakFraction: z.number().min(0).optional(),
  bankrollUtilization: z.number(),
  leverageBreaches: z.number().int(),
  exposureBreaches: z.number().int(),
  tradeCount: z.number().int(),
});
export type AgentRow = z.infer<typeof AgentRowSchema>;

/** Parent-wallet (whole cohort) figures. */
export const ParentSummarySchema = z.object({
  totalPnlUsd: z.number(),
  realizedPnlUsd: z.number(),
  unrealizedPnlUsd: z.number(),
  feesUsd: z.number(),
  roi: z.number(),
  /** Annualized minute Sharpe, for the record only (no ranking, gate or report reads it). */
  sharpe: z.number(),
  /** Volatility of the session's minute returns scaled to the session, fraction (absent in older cohorts). */
  sessionVolatility: z.number().min(0).optional(),
  maxDrawdownFraction: z.number(),
  meanUtilization: z.number(),
  peakUtilization: z.number(),
  hourlyRoi: z.array(z.number()),
});
export type ParentSummary = z.infer<typeof ParentSummarySchema>;

/**
 * One baseline's session (`cohort/baselines.ts`): a fixed reference genome simulated on the
 * cohort's bars and costs, never ranked or promoted.
 */
export const BaselineRowSchema = z.object({
  baseline: z.enum(['flat', 'buy_and_hold']),
  /** Symbol held (`buy_and_hold`); null for `flat`. */
  symbol: z.string().nullable(),
  /** Its slice (an `equal` agent's), USD. */
  allocationUsd: z.number(),
  /** Realized + unrealized − fees, USD. */
  totalPnlUsd: z.number(),
  feesUsd: z.number(),
  /** totalPnlUsd / allocationUsd, fraction. */
  sessionReturn: z.number(),
  fillCount: z.number().int().min(0),
});
export type BaselineRow = z.infer<typeof BaselineRowSchema>;

/** The persisted, complete cohort (DynamoDB header + agent rows). */
export const CohortRecordSchema = z.object({
  cohortId: z.string(),
  environment: z.string(),
  status: z.literal('complete'),
  sessionDate: z.string(),
  executionId: z.string(),
  startedAtIso: z.string(),
  completedAtIso: z.string(),
  symbols: z.array(z.string()),
  bankrollUsd: z.number(),
  agentCount: z.number().int(),
  allocation: z.string(),
  seed: z.number().int(),
  barCount: z.number().int(),
  /**
   * Calendar of the cohort's session (`market-calendar.ts`): `crypto` for 24 h UTC sessions;
   * absent (older records) or `equity-usa` for NYSE sessions.
   */
  market: z.enum(['equity-usa', 'crypto']).optional(),
  /** Genome-pool generation the agents came from (0 = seeded). */
  genomeGeneration: z.number().int().min(0).default(0),
  artifacts: z.object({ simulationKey: z.string(), scoreKey: z.string() }),
  parent: ParentSummarySchema,
  leaderboard: z.array(AgentRowSchema),
  /**
   * The cohort's baselines (flat, buy-and-hold of each symbol) on the same bars and costs;
   * absent in cohorts recorded before baselines existed (the `baseline` gate then fails closed).
   */
  baselines: z.array(BaselineRowSchema).optional(),
  /**
   * Present on a partial (intraday) cohort: simulated on the bars that had ended by `upToIso`
   * (UTC ISO-8601). Listed apart from complete cohorts; promotions refuse it.
   */
  partial: z.object({ upToIso: z.string() }).optional(),
});
export type CohortRecord = z.infer<typeof CohortRecordSchema>;

/** What `cohorts list` shows. */
export type CohortSummary = Pick<
  CohortRecord,
  | 'cohortId'
  | 'sessionDate'
  | 'completedAtIso'
  | 'symbols'
  | 'bankrollUsd'
  | 'agentCount'
  | 'market'
> & {
  totalPnlUsd: number;
  bestAgentId: string | null;
  /** UTC ISO-8601 end of the bars a partial cohort saw (absent on complete cohorts). */
  partialUpToIso?: string;
};
