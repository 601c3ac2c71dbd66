/**
 * Shapes of the Day-3 go/no-go workflow (`statemachines/day3-go-no-go.asl.json`): its
 * configuration, its request, the selected candidate the state machine carries, the micro-live
 * slice and its leverage decisions. Money in USD, rates as fractions, times UTC ISO-8601
 * (`...Iso`) or epoch ms UTC (`...Ms`), session dates `YYYY-MM-DD` (America/New_York).
 */
import * as z from 'zod';
import { approvalChainSchema } from '../approval/chain.js';
import {
  approverIdSchema,
  type CandidateMetrics,
  candidateMetricsSchema,
  gateResultSchema,
} from '../approval/types.js';
import { parseOrThrow } from '../errors.js';
import {
  DEFAULT_LEVERAGE_POLICY,
  type LeverageDecision,
  LeveragePolicySchema,
} from '../leverage/policy.js';
import { DEFAULT_ROLLBACK_CONFIG, RollbackConfigSchema } from '../rollback/monitor.js';

/** Longest wait for a human decision Step Functions allows a task token: one year, s. */
export const MAX_APPROVAL_TIMEOUT_SECONDS = 365 * 24 * 3600;

/**
 * Day-3 settings (env `DAY3_CONFIG_JSON`, built from the environment config by
 * {@link day3ConfigFrom}). Strict: a misspelt key is rejected.
 */
export const Day3ConfigSchema = z
  .strictObject({
    /** How long the RequestApproval task waits before it counts as "not approved", s. */
    approvalTimeoutSeconds: z.number().int().min(1).max(MAX_APPROVAL_TIMEOUT_SECONDS),
    /**
     * The task's HeartbeatSeconds, s (<= the timeout). Nothing in the approval flow sends
     * heartbeats, so this is the effective deadline when it is below the timeout; the ASL
     * specification wants it strictly below, hence the default `timeout - 60` (see
     * docs/approval.md). The approval link expires at the earlier of the two.
     */
    approvalHeartbeatSeconds: z.number().int().min(1).max(MAX_APPROVAL_TIMEOUT_SECONDS),
    /** The micro-live slice: `fraction` of the bankroll, at least `minUsd`, at most the bankroll. */
    microLive: z.strictObject({
      fraction: z.number().gt(0).max(1),
      minUsd: z.number().min(0),
    }),
    /** Approver identities (`scheme:id`, e.g. `slack:U024BE7LH`) allowed to decide. */
    approvers: z.array(approverIdSchema).min(1).max(50),
    /**
     * The signatures a request needs, in order (functions/core/approval/chain.ts); every approver
     * named is on `approvers`. Absent: one `risk` signature of any approver.
     */
    chain: approvalChainSchema.optional(),
    leveragePolicy: LeveragePolicySchema,
    rollback: RollbackConfigSchema,
    /**
     * Cohorts (most recent first, up to Day 3) read for the candidates' own track records and
     * the trials' Sharpe ratios, count; 120 is about six months of daily cohorts.
     */
    evidenceLookbackCohorts: z.number().int().min(3).max(2000).default(120),
    /**
     * DEMO ONLY: when the order-time gates pass but the evidence gates (`psr`, `dsr`) do not,
     * request the approval anyway, labelled "demo override" everywhere it shows. Only the local
     * mode sets it (`npm start`); every deployed stage's config schema refuses it and the
     * composition root refuses it outside the local mode.
     */
    demoOverride: z.boolean().default(false),
  })
  .refine((c) => c.approvalHeartbeatSeconds <= c.approvalTimeoutSeconds, {
    message: 'must not exceed approvalTimeoutSeconds',
    path: ['approvalHeartbeatSeconds'],
  })
  .refine((c) => (c.chain ?? []).every((s) => s.approvers.every((a) => c.approvers.includes(a))), {
    message: 'every approver of a chain step must be on `approvers`',
    path: ['chain'],
  });
export type Day3Config = z.infer<typeof Day3ConfigSchema>;

/**
 * Parses a Day-3 config.
 *
 * @throws ValidationError naming `day3.<field>` for the first invalid field.
 */
export function parseDay3Config(input: unknown): Day3Config {
  return parseOrThrow(Day3ConfigSchema, input, 'day3');
}

/**
 * The default HeartbeatSeconds for an approval timeout, s: one minute less than the timeout
 * (strictly below it, as the ASL specification requires), the timeout itself when it is at
 * most a minute (local tests).
 */
export function defaultHeartbeatSeconds(timeoutSeconds: number): number {
  return timeoutSeconds > 60 ? timeoutSeconds - 60 : timeoutSeconds;
}

/**
 * The Day-3 config for an environment: approval timeout from `approvalTimeoutHours` (heartbeat
 * {@link defaultHeartbeatSeconds} unless given), the micro-live slice, the approver allow-list, and the default leverage policy
 * (start 2x, +1x on Sharpe > 1.5 and drawdown < 3 %, cap 10x) and rollback thresholds unless
 * given.
 *
 * @throws ValidationError as {@link parseDay3Config}.
 */
export function day3ConfigFrom(input: {
  readonly approvalTimeoutHours: number;
  readonly microLive: { readonly fraction: number; readonly minUsd: number };
  readonly approvers: readonly string[];
  /** The approval chain (chain.ts); absent: one `risk` signature of any approver. */
  readonly chain?: ReadonlyArray<{ readonly role: string; readonly approvers: readonly string[] }>;
  readonly approvalHeartbeatSeconds?: number;
  readonly leveragePolicy?: z.input<typeof LeveragePolicySchema>;
  readonly rollback?: z.input<typeof RollbackConfigSchema>;
  readonly evidenceLookbackCohorts?: number;
  readonly demoOverride?: boolean;
}): Day3Config {
  const timeout = Math.round(input.approvalTimeoutHours * 3600);
  return parseDay3Config({
    approvalTimeoutSeconds: timeout,
    approvalHeartbeatSeconds: input.approvalHeartbeatSeconds ?? defaultHeartbeatSeconds(timeout),
    microLive: { fraction: input.microLive.fraction, minUsd: input.microLive.minUsd },
    approvers: [...input.approvers],
    ...(input.chain
      ? { chain: input.chain.map((s) => ({ role: s.role, approvers: [...s.approvers] })) }
      : {}),
    leveragePolicy: input.leveragePolicy ?? DEFAULT_LEVERAGE_POLICY,
    rollback: input.rollback ?? DEFAULT_ROLLBACK_CONFIG,
    ...(input.evidenceLookbackCohorts === undefined
      ? {}
      : { evidenceLookbackCohorts: input.evidenceLookbackCohorts }),
    demoOverride: input.demoOverride ?? false,
  });
}

/**
 * What starts a Day-3 go/no-go execution. Strict: an unknown key (e.g. `replayStartIso`,
 * `now`, `clock`) is refused, never stripped; the gates read the runtime's clock only.
 */
export const Day3RequestSchema = z.strictObject({
  source: z.enum(['cli', 'schedule', 'event', 'test']),
  /**
   * The Day 1, 2 and 3 cohorts, oldest first. Absent: the three most recent complete cohorts.
   */
  cohortIds: z.array(z.string().min(1)).length(3).optional(),
  /**
   * The calendar of the reviewed cohorts when `cohortIds` is absent: the three most recent
   * complete cohorts of this market (`equity-usa` when absent; `crypto`: UTC days). The
   * session-ingestion chain passes its session's market.
   */
  market: z.enum(['equity-usa', 'crypto']).optional(),
  /** Link to the run report shown to the approver (http/https). */
  reportUrl: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
});
export type Day3Request = z.infer<typeof Day3RequestSchema>;

/** One session of a Day-3 candidate (the same genome every day). */
export const LineageDaySchema = z.object({
  sessionDate: z.string(),
  cohortId: z.string(),
  agentId: z.string(),
  genomeId: z.string(),
  allocationUsd: z.number(),
  totalPnlUsd: z.number(),
  /** Session return: PnL / allocation, fraction per session. */
  roi: z.number(),
  /** The agent's drawdown from its own peak equity that session, fraction. */
  maxDrawdownFraction: z.number(),
  tradeCount: z.number().int(),
  simulationKey: z.string(),
  /**
   * `in_sample`: the ranking looked at this session; `out_of_sample`: it did not (Day 3,
   * walk-forward).
   */
  sample: z.enum(['in_sample', 'out_of_sample']),
});
export type LineageDay = z.infer<typeof LineageDaySchema>;

/**
 * A Day-3 candidate, ranked walk-forward: ONE genome and its own sessions (see `rankLineages`).
 */
export const RankedLineageSchema = z.object({
  /** Walk-forward rank (1 = best); 0: not ranked (the paper-slot holder, `holderLineage`). */
  rank: z.number().int().min(0),
  /** The candidate's genome id (a candidate is one genome, never a lineage of descendants). */
  lineageId: z.string(),
  family: z.string(),
  symbol: z.string(),
  /** Mean session return over the in-sample sessions (what the ranking used), fraction. */
  inSampleMeanRoi: z.number(),
  /** In-sample sessions, count (>= 1 for a ranked genome). */
  inSampleSessions: z.number().int().min(0),
  /** Mean session return over the out-of-sample session(s) (Day 3 when ranked), fraction. */
  outOfSampleMeanRoi: z.number(),
  /** Out-of-sample sessions, count. */
  outOfSampleSessions: z.number().int().min(0),
  /** Fewest trades on any in-sample session. */
  minDailyTrades: z.number().int(),
  /** True when the in-sample sessions together reached the minimum trade count. */
  eligible: z.boolean(),
  /**
   * The genome's reviewed sessions, oldest first; the last one is Day 3 for a ranked genome,
   * the latest reviewed session it traded for the paper-slot holder.
   */
  days: z.array(LineageDaySchema).min(1).max(3),
});
export type RankedLineage = z.infer<typeof RankedLineageSchema>;

const nullableNumber = z.number().nullable();

const sampleSummarySchema = z.object({
  n: z.number().int().min(0),
  meanReturn: nullableNumber,
  totalReturn: z.number(),
  sessionDates: z.array(z.string()),
});

/** The candidate's evidence as it travels in the selection (see `CandidateEvidence`). */
export const CandidateEvidenceSchema = z.object({
  genomeId: z.string(),
  frequency: z.string(),
  n: z.number().int().min(0),
  meanReturn: z.number(),
  stdevReturn: z.number(),
  sharpe: z.number(),
  skewness: z.number(),
  kurtosis: z.number(),
  benchmarkSharpe: z.number(),
  psr: nullableNumber,
  trials: z.number().int().min(1),
  trialSharpeVariance: nullableNumber,
  trialSharpeVarianceSource: z.enum(['trials', 'estimator']),
  trialsWithSharpe: z.number().int().min(0),
  expectedMaxSharpe: nullableNumber,
  dsr: nullableNumber,
  minTrackRecordLength: nullableNumber,
  minTrackRecordLengthDeflated: nullableNumber,
  confidence: z.number(),
  /** Sharpe per session × √252; null below `minSessionsToAnnualize` sessions. */
  annualizedSharpe: nullableNumber,
  minSessionsToAnnualize: z.number().int().min(2),
  sessions: z.array(
    z.object({
      sessionDate: z.string(),
      cohortId: z.string(),
      agentId: z.string(),
      sessionReturn: z.number(),
      tradeCount: z.number().int(),
      sample: z.enum(['in_sample', 'out_of_sample']),
      /** `paper`: the broker's fills of a paper session at parity; absent or `cohort`: simulated. */
      source: z.enum(['cohort', 'paper']).optional(),
    }),
  ),
  /**
   * The genome's paper sessions up to Day 3 (`PaperEvidence`); absent in selections made before
   * the review read the paper track record.
   */
  paper: z
    .object({
      sessions: z.number().int().min(0),
      sessionDates: z.array(z.string()),
      totalPaperPnlUsd: z.number(),
      totalParityDifferenceUsd: z.number(),
      paritySessions: z.number().int().min(0),
      divergedSessions: z.number().int().min(0),
      haltedSessions: z.number().int().min(0),
      counted: z.number().int().min(0),
    })
    .optional(),
  /** The last session the Day-3 ranking looked at, `YYYY-MM-DD`. */
  selectionCutoffDate: z.string(),
  inSample: sampleSummarySchema,
  outOfSample: sampleSummarySchema,
  /**
   * The out-of-sample sessions beside the cohort baselines (`gates/baseline.ts`); null or
   * absent (selections made before baselines): the `baseline` gate failed closed.
   */
  baselines: z
    .object({
      symbol: z.string(),
      sessionDates: z.array(z.string()),
      candidateMeanReturn: nullableNumber,
      baselines: z.array(
        z.object({
          baseline: z.enum(['flat', 'buy_and_hold']),
          symbol: z.string().nullable(),
          n: z.number().int().min(0),
          meanReturn: nullableNumber,
        }),
      ),
      missingDates: z.array(z.string()),
    })
    .nullable()
    .optional(),
});

/**
 * Why the review put this genome forward: `paper_slot_holder` (a genome holds the market's
 * paper slot at review time: the go/no-go reviews the genome that paper-traded) or
 * `walk_forward_ranking` (no genome holds the slot: the best of `rankLineages`).
 */
export const CandidateBasisSchema = z.object({
  basis: z.enum(['paper_slot_holder', 'walk_forward_ranking']),
  /** One sentence, e.g. "paper-slot holder, 2 paper sessions: ...". */
  reason: z.string().min(1),
  /** The slot's last decisive promotion (null: the slot never held a genome). */
  holder: z
    .object({ promotionId: z.string(), genomeId: z.string(), status: z.string() })
    .nullable(),
  /** The candidate's paper sessions up to Day 3, count. */
  paperSessions: z.number().int().min(0),
});
export type CandidateBasis = z.infer<typeof CandidateBasisSchema>;

/** What SelectCandidate hands the rest of the Day-3 state machine. */
export const Day3SelectionSchema = z.object({
  /** Id of this go/no-go review (`d3-<execution>`); its gate records use it as promotion id. */
  reviewId: z.string().min(1),
  cohortIds: z.array(z.string()).length(3),
  sessionDates: z.array(z.string()).length(3),
  candidate: RankedLineageSchema,
  /** The best lineages (at most 5), for the record and the CLI. */
  ranking: z.array(RankedLineageSchema).max(5),
  /** Why this genome is the candidate (`CandidateBasisSchema`). */
  candidateBasis: CandidateBasisSchema,
  metrics: candidateMetricsSchema,
  gates: z.object({
    passed: z.boolean(),
    strongestAction: z.string(),
    results: z.array(gateResultSchema),
    nowIso: z.string(),
  }),
  /**
   * The candidate genome's own statistical evidence (`day3-evidence.ts`): its session returns,
   * their PSR / DSR with frequency, sample size, skewness, kurtosis, trials and minimum track
   * record lengths. Nullable numbers: undefined statistics (too few sessions), or a track
   * record no length would make sufficient.
   */
  evidence: CandidateEvidenceSchema,
  /**
   * `go`: every gate passed; `insufficient_evidence`: the order-time gates passed and every
   * failed evidence gate is a shortfall of evidence (`psr`, `dsr`; `oos` or `baseline` on too
   * few sessions); `gates_failed`: an order-time gate failed, or an evidence gate measured
   * against the candidate (`evidenceAgainst`): never overridable.
   */
  verdict: z.enum(['go', 'insufficient_evidence', 'gates_failed']),
  /**
   * The failed evidence gates that measure against the candidate ("<gate>: <reason>"): an
   * out-of-sample loss, not beating the best baseline, or a fail closed
   * (`classifyEvidenceFailures`, gates/evidence.ts). Empty when none did.
   */
  evidenceAgainst: z.array(z.string()).default([]),
  /**
   * Whether the state machine requests a human approval: on `go`, or on
   * `insufficient_evidence` under the local demo override (then `demoOverride` is set).
   */
  proceed: z.boolean(),
  /** Set when the approval is requested only because of the local demo override. */
  demoOverride: z.object({ label: z.string() }).nullable(),
  bankrollUsd: z.number().positive(),
  capitalSliceUsd: z.number().positive(),
  /** Leverage the slice would start at (the policy's start), ratio. */
  leverage: z.number().min(1),
  reportUrl: z.string().nullable(),
  /** What the RequestApproval task's TimeoutSecondsPath / HeartbeatSecondsPath read. */
  approval: z.object({
    timeoutSeconds: z.number().int().positive(),
    heartbeatSeconds: z.number().int().positive(),
  }),
});
export type Day3Selection = z.infer<typeof Day3SelectionSchema>;
export type { CandidateMetrics };

/** What a recorded decision resumes the RequestApproval task with (SendTaskSuccess output). */
export const ApprovalResultSchema = z.object({
  approvalId: z.string(),
  decision: z.literal('approved'),
  /** Approver identity `scheme:id`. */
  by: z.string(),
  atIso: z.string(),
  channel: z.enum(['web', 'slack', 'cli']),
});
export type ApprovalResult = z.infer<typeof ApprovalResultSchema>;

/** Lifecycle of a micro-live slice. */
export const MICRO_LIVE_STATUSES = [
  /** Approved; the promotion pipeline is running. */
  'starting',
  /** The entry filled; the rollback monitor watches it. */
  'active',
  /** Rolled back: the flatten order is sent, not yet filled. */
  'flattening',
  /** Rolled back and flat. */
  'rolled_back',
  /** The pipeline ended without a position (gates failed, window expired, halted, failed). */
  'not_started',
] as const;
export type MicroLiveStatus = (typeof MICRO_LIVE_STATUSES)[number];

/** The slice's entry as filled at the broker. */
export const SliceEntrySchema = z.object({
  symbol: z.string(),
  /** Signed shares held (negative = short). */
  qty: z.number(),
  /** Volume-weighted fill price, USD per share. */
  avgPriceUsd: z.number().positive(),
  /** When the last entry fill happened, UTC ISO-8601 (fees are read from the broker). */
  filledAtIso: z.string(),
});
export type SliceEntry = z.infer<typeof SliceEntrySchema>;

/** A micro-live slice: an approved candidate trading a small capital slice on the paper broker. */
export const MicroLiveSliceSchema = z.object({
  sliceId: z.string().min(1),
  approvalId: z.string().min(1),
  /** Approver identity `scheme:id`. */
  approvedBy: z.string(),
  approvedAtIso: z.string(),
  /** The Day-3 execution that requested the approval. */
  executionArn: z.string(),
  reviewId: z.string(),
  cohortId: z.string(),
  agentId: z.string(),
  genomeId: z.string(),
  lineageId: z.string(),
  family: z.string(),
  symbol: z.string(),
  bankrollUsd: z.number().positive(),
  /** The slice's capital, USD (its equity at the start). */
  capitalSliceUsd: z.number().positive(),
  /** Current leverage allowed by the policy, ratio. */
  leverage: z.number().min(1),
  /** Variance of the candidate's Day 1-3 minute returns (fraction²), the monitor's yardstick. */
  backtestReturnVariance: z.number().nullable(),
  status: z.enum(MICRO_LIVE_STATUSES),
  statusReason: z.string(),
  promotionId: z.string().nullable(),
  pipelineExecutionArn: z.string().nullable(),
  entry: SliceEntrySchema.nullable(),
  /** client_order_id of the flatten order once sent. */
  flattenClientOrderId: z.string().nullable(),
  /** Equity at each closed day, oldest first (the leverage policy's daily inputs). */
  dailyCloses: z.array(z.object({ date: z.string(), equityUsd: z.number() })),
  /** Optimistic-concurrency version, +1 per update. */
  version: z.number().int().min(0),
  createdAtIso: z.string(),
  updatedAtIso: z.string(),
});
export type MicroLiveSlice = z.infer<typeof MicroLiveSliceSchema>;

/** One stored leverage decision of a slice, with the inputs it was taken on. */
export interface LeverageDecisionRecord extends LeverageDecision {
  readonly sliceId: string;
  /** Idempotency key: `initial`, `day:<date>` or `rollback:<date>`. */
  readonly key: string;
  readonly decidedAtIso: string;
  readonly inputs: Readonly<Record<string, number | string | null>>;
}
