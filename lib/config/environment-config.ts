/**
 * The typed, validated shape of one environment's configuration (synth time only).
 *
 * Every field is checked by {@link EnvironmentConfigSchema}; {@link parseEnvironmentConfig}
 * turns the first problem into a {@link ValidationError} whose `field` is the dotted path of
 * the offending value (for example `schedules.cohortStart.expression`), so `cdk synth` fails
 * with a message that names what to fix.
 */
import { z } from 'zod';
import {
  alpacaMarketOf,
  DEFAULT_CRYPTO_PAIRS,
} from '../../functions/adapters/market-data/alpaca-market-data.js';
import { approvalChainSchema, approverIdSchema } from '../../functions/core/approval/chain.js';
import { SlackCommandUsersSchema } from '../../functions/core/chatops/command.js';
import { CohortConfigSchema } from '../../functions/core/cohort/config.js';
import { ValidationError } from '../../functions/core/errors.js';
import { STAGE_FEE_PRESETS } from '../../functions/core/exchange/fee-schedules.js';
import { GateThresholdFieldsSchema } from '../../functions/core/gates/thresholds.js';
import { LeveragePolicySchema } from '../../functions/core/leverage/policy.js';
import { RollbackConfigSchema } from '../../functions/core/rollback/monitor.js';
import { CohortRequestSchema } from '../../functions/core/use-cases/cohort-records.js';
import { ShardAgentsSchema } from '../../functions/core/use-cases/cohort-shards.js';
import { LearningConfigSchema } from '../../functions/core/use-cases/learning.js';
import { PromotionConfigSchema } from '../../functions/core/use-cases/promotion-records.js';
import { ROLLBACK_MONITOR_CADENCES } from './rollback-monitor.js';
import { isKnownTimeZone, scheduleExpressionProblem } from './schedule-expression.js';
import { STAGES } from './stages.js';

/** The three deployment environments (in their own module: the CLI's light entry reads them). */
export { STAGES, type Stage } from './stages.js';

/** Retention periods CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Athena refuses a per-query bytes-scanned cutoff below 10 MB. */
export const ATHENA_MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

/**
 * Signatures a prod Day-3 request needs at least (issue 14: "prod requires two signatures").
 * With approvers configured, prod's `approval.chain` must have this many steps; the chain schema
 * already makes every step signable by a distinct approver, so N steps means N different people.
 */
export const PROD_MIN_SIGNATURES = 2;

/**
 * Every approver a chain step names must be on the stage's `approval.approvers`; in prod, a
 * deployed Day-3 review (approvers set) needs a chain of at least {@link PROD_MIN_SIGNATURES}
 * steps (absent chain = one signature, refused), reported on `approval.chain`.
 */
function approvalChainIssues(
  stage: string,
  approval: {
    readonly approvers: readonly string[];
    readonly chain?: readonly { readonly approvers: readonly string[] }[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const steps = approval.chain?.length ?? 1;
  if (stage === 'prod' && approval.approvers.length > 0 && steps < PROD_MIN_SIGNATURES) {
    ctx.addIssue({
      code: 'custom',
      path: ['approval', 'chain'],
      message: `prod requires at least ${PROD_MIN_SIGNATURES} signatures by distinct approvers (e.g. operator then risk): ${approval.chain ? `the chain has ${steps} step` : 'no chain is set (one signature)'}`,
    });
  }
  for (const [i, step] of (approval.chain ?? []).entries()) {
    const unknown = step.approvers.filter((a) => !approval.approvers.includes(a));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval', 'chain', i, 'approvers'],
        message: `${unknown.join(', ')} not on approval.approvers`,
      });
    }
  }
}

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (24-hour, America/New_York wall clock)');

const ScheduleSchema = z.object({
  /** EventBridge Scheduler expression, e.g. `cron(35 9 ? * MON-FRI *)`. */
  expression: z.string().superRefine((value, ctx) => {
    const problem = scheduleExpressionProblem(value);
    if (problem)
      ctx.addIssue({ code: 'custom', message: `invalid schedule "${value}": ${problem}` });
  }),
  /** ENABLED or DISABLED at deploy time. */
  enabled: z.boolean(),
});

export const EnvironmentConfigSchema = z
  .object({
    stage: z.enum(STAGES),
    /** 12-digit AWS account id; absent = environment-agnostic stack (the CLI profile decides). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as us-east-1'),
    cohort: z.object({
      /** Tickers the scheduled cohort trades (LEAN symbols, upper case). */
      symbols: z
        .array(z.string().regex(/^[A-Z][A-Z.]{0,9}$/, 'must be an upper-case ticker'))
        .min(1, 'needs at least one symbol'),
      /**
       * The crypto universe (24 h UTC sessions): pairs Alpaca serves, written without the
       * slash (`BTCUSD` for `BTC/USD`; the adapter's `DEFAULT_CRYPTO_PAIRS`). Not empty: the
       * CDK deploys the crypto stage (`schedules.crypto`: session ingestion and its chain,
       * promotion, learning cycle, go/no-go, the crypto rollback-monitor ticks, each in UTC,
       * with did-not-run alarms; docs/deploy.md). Absent or empty: nothing crypto is deployed.
       */
      cryptoSymbols: z
        .array(
          z.string().refine((s) => /^[A-Z]+$/.test(s) && alpacaMarketOf(s) === 'crypto', {
            message: `must be a crypto pair written without the slash (${DEFAULT_CRYPTO_PAIRS.join(', ')})`,
          }),
        )
        .max(20, 'at most 20 crypto pairs (the cohort request limit)')
        .optional(),
      /** Agents seeded per cohort (the cohort runtime's range applies, see superRefine). */
      agentCount: z.number().int(),
      /** Bankroll a scheduled cohort starts with (USD); must sit inside `bankrollLimits`. */
      bankrollUsd: z.number().positive(),
      /** This environment's bankroll range (USD), itself inside the cohort runtime's range. */
      bankrollLimits: z.object({
        minUsd: z.number().positive(),
        maxUsd: z.number().positive(),
      }),
      allocation: z.enum(['equal', 'risk-weighted']),
      /**
       * Agents per shard of the sharded path (`CohortShardAgents` of the intraday-cohort
       * state machine, docs/scale.md): a cohort above this many agents fans out over a
       * Distributed Map; the shard runtime's range (1..1000) applies.
       */
      shardAgents: ShardAgentsSchema,
    }),
    /**
     * The stage's equity fee schedule (`functions/core/exchange/fee-schedules.ts`, with sources):
     * the cohort simulator, the simulated broker and the paper session's reference simulation
     * all charge it (parity to the cent); crypto fills always pay Alpaca's crypto fee.
     */
    fees: z.strictObject({
      /**
       * `cohort_default` (USD 0.005/share capped at 1 % of notional, no minimum: a
       * conservative stand-in for any broker), `ibkr_fixed` (IBKR Pro Fixed with its USD 1
       * minimum and 1 % cap, plus the sale pass-throughs) or `alpaca_equity` (no commission;
       * SEC fee and FINRA TAF on sells, CAT fee on both sides).
       */
      preset: z.enum(STAGE_FEE_PRESETS),
      /**
       * The SEC Section 31 rate, USD per USD of sell principal (27.8e-6 = USD 27.80 per
       * million; 0 while the SEC charges nothing). The SEC re-sets it every fiscal year, so a
       * built-in default would silently go stale: REQUIRED with the presets that charge it
       * (`alpaca_equity`, `ibkr_fixed`), stated in the stage's config with its source; refused
       * with `cohort_default`, which charges none.
       */
      secFeePerUsdSold: z.number().min(0).max(0.001).optional(),
    }),
    schedules: z.object({
      /** IANA zone every schedule expression is evaluated in. */
      timezone: z.string().refine(isKnownTimeZone, {
        message: 'must be a canonical IANA time zone such as America/New_York',
      }),
      /**
       * Starts the intraday cohort state machine on its own (data uploaded by hand). Disabled
       * by default: the session-ingestion chain starts each session's cohort once its bars are
       * ingested.
       */
      cohortStart: ScheduleSchema,
      /**
       * Starts the session ingestion and its chain (cohort -> learning -> Day-3) after the
       * close: 16:05 and 13:05 New York (the 13:05 run acts on early-close days only).
       */
      sessionIngestion: ScheduleSchema,
      /**
       * Starts the promotion pipeline on weekdays at `promotion.windows[0].opensAt`
       * (America/New_York, the zone the promotion window is defined in); the expression is
       * derived, only ENABLED/DISABLED is configured.
       */
      promotionStart: z.object({ enabled: z.boolean() }),
      /** Starts the learning-cycle state machine (input `{"source":"schedule"}`). */
      learningCycle: ScheduleSchema,
      /**
       * Starts the Day-3 go/no-go state machine (input `{"source":"schedule"}`); only deployed
       * when `approval.approvers` is not empty.
       */
      day3GoNoGo: ScheduleSchema,
      /**
       * Posts the daily report of the session just closed to `slack.channel` (the
       * post-daily-report function; a firing with no session closed in the last 24 h, or
       * one already posted, posts nothing and records why). Deployed with the chat-ops.
       */
      dailyReport: ScheduleSchema,
      /**
       * The rollback monitor's ticks: one every `everyMinutes` (minutes, a divisor of 30: 1, 2,
       * 3, 5, 6, 10, 15 or 30) from 09:30 plus that cadence, and the closing
       * tick at 15:55, weekdays, America/New_York (`lib/config/rollback-monitor.ts`). Deployed
       * with the Day-3 go/no-go; the local replay fires the same ticks.
       */
      rollbackMonitor: z.object({
        enabled: z.boolean(),
        everyMinutes: z
          .number()
          .int()
          .refine((n) => (ROLLBACK_MONITOR_CADENCES as readonly number[]).includes(n), {
            message: `must be one of ${ROLLBACK_MONITOR_CADENCES.join(', ')} (minutes)`,
          }),
      }),
      /**
       * The crypto schedules (24 h UTC sessions, every day): every expression is evaluated in
       * UTC, whatever `timezone` says. The cohort (or the session ingestion that starts it) of
       * a UTC day fires after that day closed at 00:00 UTC; the promotion inside
       * `promotion.cryptoWindow`. Deployed when `cohort.cryptoSymbols` is not empty (the
       * go/no-go and the rollback-monitor ticks only with the Day-3 go/no-go, the daily report
       * with the chat-ops, like the equity ones); the local replay fires them for
       * `--market crypto` through `stageSchedules`. As for equities, the session-ingestion
       * chain starts the cohort and the go/no-go, so their own schedules are deployed DISABLED
       * by default.
       */
      crypto: z.object({
        /**
         * Starts the cohort of the UTC day that just closed on `cohort.cryptoSymbols` (the
         * replay's `cohort-start`).
         */
        cohortStart: ScheduleSchema,
        /** Starts the session ingestion and its chain (`--market-data alpaca-fake`). */
        sessionIngestion: ScheduleSchema,
        /** Starts the promotion pipeline; must fire inside `promotion.cryptoWindow`. */
        promotionStart: ScheduleSchema,
        /** Starts the learning-cycle state machine. */
        learningCycle: ScheduleSchema,
        /** Starts the Day-3 go/no-go. */
        day3GoNoGo: ScheduleSchema,
        /**
         * Posts the crypto daily report of the UTC day that closed at midnight (the
         * post-daily-report function with `market: crypto`), after that day's ingestion chain.
         */
        dailyReport: ScheduleSchema,
      }),
    }),
    /**
     * Day-3 human approval (docs/approval.md). The Day-3 go/no-go (state machine, approval
     * HTTP API, rollback monitor, schedules) is deployed only when `approvers` is not empty: a
     * review nobody may approve would only ever time out.
     */
    approval: z.object({
      /** Approver identities (`scheme:id`: `slack:U024BE7LH`, `web:alice@example.com`). */
      approvers: z.array(approverIdSchema).max(50),
      /**
       * The approval chain (functions/core/approval/chain.ts): the signatures a Day-3 request
       * needs, in order, each `{ role: 'operator' | 'risk', approvers }` and each by a distinct
       * approver (one approver signs once), e.g. operator then risk officer. Every approver
       * named must be on `approvers`. Absent: one `risk` signature of any of `approvers`.
       */
      chain: approvalChainSchema.optional(),
      /**
       * JWT authorizer of the approval page routes (an OIDC issuer such as a Cognito user
       * pool or an IdP); the page's approver is `web:<email claim>` (else `web:<sub>`).
       * Required in staging and prod whenever `approvers` is not empty (the config is
       * refused without it). Absent (dev only): the page routes require IAM (SigV4)
       * authorization, so browsers cannot use them and approvals go through the Slack
       * buttons; the routes are never open.
       */
      jwt: z
        .object({
          issuer: z.url({ protocol: /^https$/ }),
          audience: z.array(z.string().min(1)).min(1),
        })
        .optional(),
    }),
    /**
     * Learning-cycle settings, checked with the schema `run-learning-cycle` parses
     * `LEARNING_CONFIG_JSON` with (`LearningConfigSchema`): lookback 6|12|24 h, elites,
     * mutation and crossover rates (fractions), tournament size.
     */
    learning: LearningConfigSchema,
    /**
     * Session ingestion from Alpaca (`functions/core/use-cases/session-ingestion.ts`): the
     * stock feed (`iex` free, `sip` paid), the days of daily history rewritten with each
     * session, and the data-quality limits (`functions/core/market/data-quality.ts`). The
     * universe is `cohort.symbols`.
     */
    ingestion: z.object({
      feed: z.enum(['iex', 'sip']),
      dailyLookbackDays: z.number().int().min(30).max(3660),
      quality: z.object({
        maxMissingFraction: z.number().min(0).max(1),
        maxNonPositivePrices: z.number().int().min(0),
        maxCrossedQuoteFraction: z.number().min(0).max(1),
        falseTickJumpFraction: z.number().positive(),
        maxFalseTicks: z.number().int().min(0),
        maxStaleQuoteMinutes: z.number().int().min(0),
      }),
    }),
    promotion: z.object({
      /**
       * The wall-clock window (America/New_York, weekdays) in which a promotion may go to the
       * broker: exactly one per stage (the pipeline's gate and schedule read one window; a
       * second would be silently ignored, so the schema refuses it).
       */
      windows: z
        .array(z.object({ opensAt: hhmm, closesAt: hhmm }))
        .min(1, 'needs one promotion window')
        .max(1, 'one promotion window per stage (a second window would never be used)'),
      /**
       * The crypto promotion window (24 h UTC sessions, every day), `HH:mm` UTC, open inclusive
       * and close exclusive on the same UTC day. Absent: crypto candidates are never promoted
       * (their window gate fails closed); required when `cohort.cryptoSymbols` is set.
       */
      cryptoWindow: z
        .object({
          opensAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (24-hour, UTC)'),
          closesAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (24-hour, UTC)'),
        })
        .optional(),
      /** How long a human approval request stays open before it counts as a reject (hours). */
      approvalTimeoutHours: z.number().int().min(1).max(168),
      /**
       * The local demo override of the Day-3 evidence gates (`npm start` only): a deployed
       * stage refuses it, so a deployed go/no-go can only request an approval on evidence.
       */
      demoOverride: z
        .literal(false, {
          error: 'a demo override of the evidence gates is refused in every deployed stage',
        })
        .optional(),
      /** Micro-live slice: fraction of bankroll (0..1] with a USD floor. */
      microLive: z.object({
        fraction: z.number().gt(0).max(1),
        minUsd: z.number().min(1),
      }),
      /**
       * The micro-live slice's leverage policy (start, step, floor, cap `maxLeverage`, the
       * step-up conditions), ratios and fractions: `functions/core/leverage/policy.ts`.
       */
      leveragePolicy: LeveragePolicySchema,
      /**
       * The rollback monitor's limits of a live slice (max drawdown fraction of peak equity,
       * max realized / backtest return-variance ratio, observations before the ratio counts):
       * `functions/core/rollback/monitor.ts`.
       */
      rollback: RollbackConfigSchema,
    }),
    slack: z.object({
      /** Channel approval requests and notifications go to. */
      channel: z
        .string()
        .regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, 'must be a Slack channel like #stagegate-dev'),
      /**
       * Who may use the `/stagegate` slash command: Slack user id -> console roles
       * (`viewer` reads, `operator` kill switch / cohort start / plans, `risk` approvals).
       * Anyone else is refused and audited. Empty = nobody.
       */
      commandUsers: SlackCommandUsersSchema,
    }),
    broker: z.object({
      /** `paper` (default everywhere) or `live`; `live` needs `allowLiveBroker: true`. */
      mode: z.enum(['paper', 'live']),
      allowLiveBroker: z.boolean(),
      /** Which paper broker the pipeline uses: the built-in simulator or Alpaca paper. */
      adapter: z.enum(['simulated', 'alpaca-paper']),
      /** Settings of the built-in simulated paper broker (fills against real quote bars). */
      simulated: z.object({
        startingCashUsd: z.number().positive(),
        /** Largest share of a minute's volume one order may fill in that minute, (0, 1]. */
        participationFraction: z.number().gt(0).max(1),
        /** Submission-to-fillable delay, ms. */
        latencyMs: z.number().int().min(0),
        /**
         * Id of the simulated account (`BROKER_ACCOUNT`): its state lives in the table under
         * partition `SIMBROKER#<accountId>`, which is all the pipeline may touch of it.
         */
        accountId: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 chars of [A-Za-z0-9_.-]'),
      }),
    }),
    /**
     * Risk gate thresholds (every one required: a missing threshold fails synth, and the
     * pipeline's Lambdas refuse to run without them). The promotion window's open/close come
     * from `promotion.windows[0]`.
     */
    gates: GateThresholdFieldsSchema.omit({
      promotionWindowOpenNy: true,
      promotionWindowCloseNy: true,
      cryptoPromotionWindowOpenUtc: true,
      cryptoPromotionWindowCloseUtc: true,
    }),
    /** Promotion pipeline settings (capital slice, polling, reconciliation tolerance). */
    pipeline: PromotionConfigSchema,
    audit: z.object({
      /** S3 Object Lock mode: GOVERNANCE (privileged users may shorten) or COMPLIANCE (nobody may). */
      objectLockMode: z.enum(['GOVERNANCE', 'COMPLIANCE']),
      /** Default Object Lock retention of every audit object (days). */
      retentionDays: z.number().int().min(1).max(36_500),
      /** First day (yyyy-MM-dd) Athena partition projection enumerates. */
      projectionStartDate: z.iso.date(),
    }),
    logs: z.object({
      retentionDays: z
        .number()
        .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
          message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
        }),
      /** POWERTOOLS_LOG_LEVEL of every function. */
      level: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
      /** Days S3 server access logs and Athena results are kept. */
      accessLogRetentionDays: z.number().int().min(1).max(3650),
    }),
    alarms: z.object({
      /** Addresses subscribed (by email) to the alarm topic; each must confirm once. */
      emails: z.array(z.email()),
      /**
       * Optional AWS Chatbot Slack channel that receives the alarm topic. The workspace must
       * be authorised once in the Chatbot console first.
       */
      chatbotSlack: z
        .object({
          workspaceId: z.string().regex(/^[A-Z0-9]{9,}$/, 'must be a Slack workspace (team) id'),
          channelId: z.string().regex(/^[A-Z0-9]{9,}$/, 'must be a Slack channel id'),
        })
        .optional(),
    }),
    kms: z.object({
      /** One customer-managed key (rotation on) per environment for data at rest. */
      customerManagedKey: z.boolean(),
    }),
    /** What CloudFormation does with stateful resources on stack deletion. */
    removalPolicy: z.enum(['retain', 'destroy']),
    athena: z.object({
      /** Per-query bytes-scanned cutoff of the workgroup (bytes). */
      bytesScannedCutoffPerQuery: z.number().int().min(ATHENA_MIN_BYTES_SCANNED_CUTOFF),
    }),
  })
  .superRefine((cfg, ctx) => {
    cohortConfigIssues(cfg, ctx);
    feeIssues(cfg, ctx);
    approvalConfigIssues(cfg, ctx);
    safetyAndWindowIssues(cfg, ctx);
  });

/** One environment's validated configuration. */
export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;

/**
 * The cohort block against the cohort runtime's own schemas (a config synth accepts must not be
 * rejected by the state machine's first step) and the bankroll range.
 */
function cohortConfigIssues(cfg: EnvironmentConfig, ctx: z.RefinementCtx): void {
  const { bankrollUsd, bankrollLimits } = cfg.cohort;
  // The runtime's own schemas decide what a cohort accepts: a config synth accepts must not
  // be rejected by the state machine's first step.
  const runtime = CohortConfigSchema.shape;
  const checks: [PropertyKey[], z.ZodType, unknown][] = [
    [['cohort', 'bankrollLimits', 'minUsd'], runtime.bankrollUsd, bankrollLimits.minUsd],
    [['cohort', 'bankrollLimits', 'maxUsd'], runtime.bankrollUsd, bankrollLimits.maxUsd],
    [['cohort', 'agentCount'], runtime.agentCount, cfg.cohort.agentCount],
  ];
  for (const [path, schema, value] of checks) {
    const result = schema.safeParse(value);
    if (!result.success) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${String(value)} is outside what the cohort runtime accepts (${result.error.issues[0]?.message ?? 'invalid'})`,
      });
    }
  }
  const request = CohortRequestSchema.safeParse({
    source: 'schedule',
    scheduledTime: '2026-01-05T14:35:00.000Z',
    symbols: cfg.cohort.symbols,
    bankrollUsd,
    agentCount: cfg.cohort.agentCount,
    allocation: cfg.cohort.allocation,
  });
  if (!request.success) {
    for (const issue of request.error.issues) {
      ctx.addIssue({
        code: 'custom',
        path: ['cohort', ...issue.path],
        message: `the scheduled cohort request would be rejected: ${issue.message}`,
      });
    }
  }
  if (bankrollLimits.minUsd > bankrollLimits.maxUsd) {
    ctx.addIssue({
      code: 'custom',
      path: ['cohort', 'bankrollLimits', 'minUsd'],
      message: `must not exceed bankrollLimits.maxUsd (${bankrollLimits.maxUsd})`,
    });
  }
  if (bankrollUsd < bankrollLimits.minUsd || bankrollUsd > bankrollLimits.maxUsd) {
    ctx.addIssue({
      code: 'custom',
      path: ['cohort', 'bankrollUsd'],
      message: `${bankrollUsd} USD is outside the allowed range ${bankrollLimits.minUsd}..${bankrollLimits.maxUsd} USD`,
    });
  }
}

/**
 * An SEC rate only with a preset that charges the SEC fee, and always with one: the rate
 * changes every fiscal year, so the stage states the one it charges.
 */
function feeIssues(cfg: EnvironmentConfig, ctx: z.RefinementCtx): void {
  if (cfg.fees.preset !== 'cohort_default' && cfg.fees.secFeePerUsdSold === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['fees', 'secFeePerUsdSold'],
      message: `is required with fees.preset ${cfg.fees.preset}: the SEC re-sets its Section 31 rate every fiscal year, so set the current rate (USD per USD of sell principal, e.g. 27.8e-6 = USD 27.80 per million) with its source (docs/execution.md "Fees per broker")`,
    });
  }
  if (cfg.fees.preset === 'cohort_default' && cfg.fees.secFeePerUsdSold !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['fees', 'secFeePerUsdSold'],
      message:
        'the cohort_default preset charges no SEC fee (its per-share fee stands in for it): choose fees.preset ibkr_fixed or alpaca_equity',
    });
  }
}

/** Outside dev, approvers need a JWT issuer; the signature chain; no approver listed twice. */
function approvalConfigIssues(cfg: EnvironmentConfig, ctx: z.RefinementCtx): void {
  if (cfg.stage !== 'dev' && cfg.approval.approvers.length > 0 && !cfg.approval.jwt) {
    ctx.addIssue({
      code: 'custom',
      path: ['approval', 'jwt'],
      message: `is required in ${cfg.stage} when approvers are set: the approval page needs a signed-in identity (JWT issuer and audience), not IAM-only access`,
    });
  }
  approvalChainIssues(cfg.stage, cfg.approval, ctx);
  if (new Set(cfg.approval.approvers).size !== cfg.approval.approvers.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['approval', 'approvers'],
      message: 'lists an approver twice',
    });
  }
}

/** The live broker only when allowed; windows that open before they close; prod audit locked. */
function safetyAndWindowIssues(cfg: EnvironmentConfig, ctx: z.RefinementCtx): void {
  if (cfg.broker.mode === 'live' && !cfg.broker.allowLiveBroker) {
    ctx.addIssue({
      code: 'custom',
      path: ['broker', 'mode'],
      message: `"live" is refused for ${cfg.stage} unless broker.allowLiveBroker is true`,
    });
  }
  const crypto = cfg.promotion.cryptoWindow;
  if (!crypto && (cfg.cohort.cryptoSymbols ?? []).length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['promotion', 'cryptoWindow'],
      message:
        'is required when cohort.cryptoSymbols is set: without it every crypto promotion fails its window gate',
    });
  }
  if (crypto && crypto.opensAt >= crypto.closesAt) {
    ctx.addIssue({
      code: 'custom',
      path: ['promotion', 'cryptoWindow', 'closesAt'],
      message: `must be after opensAt (${crypto.opensAt})`,
    });
  }
  for (const [i, w] of cfg.promotion.windows.entries()) {
    if (w.opensAt >= w.closesAt) {
      ctx.addIssue({
        code: 'custom',
        path: ['promotion', 'windows', i, 'closesAt'],
        message: `must be after opensAt (${w.opensAt})`,
      });
    }
  }
  if (cfg.stage === 'prod' && cfg.audit.objectLockMode !== 'COMPLIANCE') {
    ctx.addIssue({
      code: 'custom',
      path: ['audit', 'objectLockMode'],
      message: 'prod audit objects must be locked in COMPLIANCE mode',
    });
  }
}

/** Recursively optional version of T (arrays are replaced, not merged). */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** Formats a zod issue path as `a.b[0].c`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc === '' ? String(key) : `${acc}.${String(key)}`;
  }, '');
}

/**
 * Validates a candidate configuration.
 *
 * @param candidate unvalidated input (defaults merged with overrides).
 * @returns the parsed {@link EnvironmentConfig}.
 * @throws ValidationError when any field is invalid: `field` is the dotted path of the first
 *   problem (e.g. `cohort.bankrollUsd`); the message lists every problem found.
 */
export function parseEnvironmentConfig(candidate: unknown): EnvironmentConfig {
  const result = EnvironmentConfigSchema.safeParse(candidate);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    field: formatPath(issue.path) || '(root)',
    message: issue.message,
  }));
  const first = problems[0] ?? { field: '(root)', message: 'invalid configuration' };
  const stage =
    typeof candidate === 'object' && candidate !== null && 'stage' in candidate
      ? String((candidate as { stage: unknown }).stage)
      : '?';
  const all = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  throw new ValidationError(first.field, `${first.message} (stage ${stage}; all problems: ${all})`);
}
