/**
 * Per-environment configuration: the checked-in defaults for dev, staging and prod, and
 * {@link loadEnvironmentConfig} to apply overrides (from CDK context) and validate.
 *
 * Defaults carry no AWS account: `bin/app.ts` adds one from context (or, for dev only, from
 * `CDK_DEFAULT_ACCOUNT`); without one the stacks are environment-agnostic.
 */
import { NYSE_TIME_ZONE } from '../../functions/core/calendar/market-calendar.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../functions/core/gates/thresholds.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../functions/core/leverage/policy.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../functions/core/rollback/monitor.js';
import {
  type DeepPartial,
  type EnvironmentConfig,
  parseEnvironmentConfig,
  STAGES,
  type Stage,
} from './environment-config.js';

const GIB = 1024 ** 3;

/** The stage's `gates`: the core default thresholds without the window (that is `promotion`). */
const {
  promotionWindowOpenNy: _open,
  promotionWindowCloseNy: _close,
  cryptoPromotionWindowOpenUtc: _cryptoOpen,
  cryptoPromotionWindowCloseUtc: _cryptoClose,
  ...GATE_DEFAULTS
} = DEFAULT_GATE_THRESHOLDS;

/** Shared by every stage unless overridden below. */
const COMMON = {
  region: 'us-east-1',
  cohort: {
    symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
    allocation: 'equal',
    // Agents per shard (docs/scale.md): at today's cap of 1,000 agents one RunCohort Lambda
    // is far from its limits, so only cohorts above 250 agents fan out.
    shardAgents: 250,
  },
  schedules: {
    timezone: NYSE_TIME_ZONE,
    // 09:35 New York, weekdays, DISABLED: the session-ingestion chain starts each session's
    // cohort after its bars are ingested (a cohort at 09:35 would find no data for today).
    cohortStart: { expression: 'cron(35 9 ? * MON-FRI *)', enabled: false },
    // 16:05 New York after the close, and 13:05 for early-close days (a skip on other days):
    // ingestion -> the session's cohort -> learning cycle -> Day-3 go/no-go.
    sessionIngestion: { expression: 'cron(5 13,16 ? * MON-FRI *)', enabled: true },
    // At promotion.windows[0].opensAt New York, weekdays (the pipeline promotes the most
    // recent complete cohort; the simulated broker is the default adapter everywhere).
    promotionStart: { enabled: true },
    // 12:00 and 16:00 New York, weekdays: cycles on the completed cohorts of earlier sessions
    // (the local replay fires the same slots); the session-ingestion chain adds the cycle
    // that follows each session's cohort.
    learningCycle: { expression: 'cron(0 12,16 ? * MON-FRI *)', enabled: true },
    // 16:30 New York, weekdays, DISABLED: the session-ingestion chain starts the go/no-go
    // after the session's learning cycle.
    day3GoNoGo: { expression: 'cron(30 16 ? * MON-FRI *)', enabled: false },
    // Every 5 minutes from 09:35 New York, and the closing tick at 15:55 (rollback-monitor.ts).
    rollbackMonitor: { enabled: true, everyMinutes: 5 },
    // 16:45 New York, weekdays: the daily report of the session just closed (after the
    // 16:05 ingestion chain and its Day-3 go/no-go), posted to slack.channel.
    dailyReport: { expression: 'cron(45 16 ? * MON-FRI *)', enabled: true },
    // Crypto (24 h UTC days, every day; expressions in UTC): the session ingestion of a UTC
    // day at 00:05 UTC the next day, once that day has closed, and its chain (cohort ->
    // learning cycle -> Day-3 go/no-go); the promotion of the previous day's best candidate
    // at 01:00 UTC, inside promotion.cryptoWindow (00:30-23:00 UTC); learning cycles at 00:30
    // and 12:30 UTC; the daily report of the UTC day at 00:55 UTC, after the chain's 00:45
    // go/no-go (deployed with the chat-ops). Deployed when
    // cohort.cryptoSymbols is not empty. The cohort (00:05) and go/no-go (00:45) schedules are
    // DISABLED as for equities: the chain starts them (the local replay without the chain
    // fires them at these times).
    crypto: {
      cohortStart: { expression: 'cron(5 0 * * ? *)', enabled: false },
      sessionIngestion: { expression: 'cron(5 0 * * ? *)', enabled: true },
      promotionStart: { expression: 'cron(0 1 * * ? *)', enabled: true },
      learningCycle: { expression: 'cron(30 0,12 * * ? *)', enabled: true },
      day3GoNoGo: { expression: 'cron(45 0 * * ? *)', enabled: false },
      dailyReport: { expression: 'cron(55 0 * * ? *)', enabled: true },
    },
  },
  // No approver by default: the Day-3 go/no-go is deployed once a stage lists its approvers
  // (cdk.context.json `stagegate:<stage>.approval.approvers`, docs/deploy.md).
  approval: { approvers: [] as string[] },
  learning: {
    lookbackHours: 24,
    eliteCount: 4,
    mutationRate: 0.3,
    crossoverRate: 0.5,
    tournamentSize: 3,
    // Walk-forward inside learning (docs/evidence.md): the latest session of the lookback
    // chooses the elites, the 3 sessions before it breed.
    validationSessions: 1,
    trainingSessions: 3,
  },
  ingestion: {
    feed: 'iex',
    // ~380 sessions: the VaR gate needs 250 daily returns.
    dailyLookbackDays: 550,
    quality: {
      maxMissingFraction: 0.1,
      maxNonPositivePrices: 0,
      maxCrossedQuoteFraction: 0.01,
      falseTickJumpFraction: 0.1,
      maxFalseTicks: 0,
      maxStaleQuoteMinutes: 30,
    },
  },
  promotion: {
    // The core defaults' window (functions/core/gates/thresholds.ts): 10:00-15:30 New York.
    windows: [
      {
        opensAt: DEFAULT_GATE_THRESHOLDS.promotionWindowOpenNy,
        closesAt: DEFAULT_GATE_THRESHOLDS.promotionWindowCloseNy,
      },
    ],
    // The core defaults' crypto window (24 h UTC days): 00:30-23:00 UTC, after the previous
    // UTC day's cohort (00:05 UTC), well before the session's flatten at 00:00 UTC.
    cryptoWindow: {
      opensAt: _cryptoOpen ?? '00:30',
      closesAt: _cryptoClose ?? '23:00',
    },
    approvalTimeoutHours: 4,
    microLive: { fraction: 0.05, minUsd: 50 },
    // The core defaults: start 2x; +1x when the daily Sharpe (>= 20 sessions) > 1.5 and
    // drawdown < 3 %; cap 10x; -1x after a losing day; floor 1x.
    leveragePolicy: { ...DEFAULT_LEVERAGE_POLICY },
    // The core defaults: roll back at 5 % drawdown, or 4x the backtest return variance after 30 returns.
    rollback: { ...DEFAULT_ROLLBACK_CONFIG },
  },
  broker: {
    mode: 'paper',
    allowLiveBroker: false,
    adapter: 'simulated',
    simulated: {
      startingCashUsd: 100_000,
      participationFraction: 0.1,
      latencyMs: 1_000,
      accountId: 'paper-1',
    },
  },
  // The core defaults (functions/core/gates/thresholds.ts): one place for every gate
  // threshold; the promotion windows are `promotion.windows[0]` and `promotion.cryptoWindow`.
  gates: GATE_DEFAULTS,
  pipeline: {
    capitalSliceFraction: 0.1,
    minCapitalSliceUsd: 50,
    pollIntervalSeconds: 60,
    maxPolls: 30,
    windowCheckSeconds: 900,
    reconcileQtyTolerance: 0.000001,
    wholeShares: false,
    // The incumbent keeps the paper slot unless a challenger beats it by 10 bps a day over
    // 3 sessions, once the incumbent has 3 paper sessions (docs/execution.md).
    paperSlot: { marginDailyReturn: 0.001, minChallengerSessions: 3, minIncumbentSessions: 3 },
  },
  audit: { projectionStartDate: '2024-01-01' },
  alarms: { emails: [] as string[] },
} as const;

/**
 * The deployed stages trade at Alpaca (the `alpaca-paper` adapter; the simulated broker models
 * it): its equity fees (no commission; the SEC fee, the FINRA TAF and the CAT fee).
 *
 * `secFeePerUsdSold` (required with this preset): USD 27.80 per million of sell principal, the
 * SEC fee rate in Alpaca's "Regulatory Fees" table (docs.alpaca.markets/docs/regulatory-fees,
 * read 2026-12-05), the rate Alpaca passes through to the account. The SEC re-sets it every
 * fiscal year (USD 0.00 per million from 2025-05-14, FINRA Information Notice 2025-04-24; the
 * fiscal-2026 order is SEC Release 34-104909 of 2026-02-27, 91 FR 10643): when Alpaca's table
 * or a new SEC order changes it, change it here with its source (docs/execution.md).
 */
const ALPACA_FEES = { preset: 'alpaca_equity', secFeePerUsdSold: 27.8e-6 } as const;

/** Checked-in defaults, before overrides and validation. */
export const DEFAULTS: Readonly<Record<Stage, DeepPartial<EnvironmentConfig>>> = {
  dev: {
    ...COMMON,
    stage: 'dev',
    // The cohort default (USD 0.005/share, capped at 1 %): the local mode runs dev, and its
    // story's figures are priced with it (README).
    fees: { preset: 'cohort_default' },
    cohort: {
      ...COMMON.cohort,
      agentCount: 8,
      bankrollUsd: 10_000,
      bankrollLimits: { minUsd: 1_000, maxUsd: 25_000 },
    },
    slack: { channel: '#stagegate-dev', commandUsers: {} },
    audit: { ...COMMON.audit, objectLockMode: 'GOVERNANCE', retentionDays: 1 },
    logs: { retentionDays: 14, level: 'DEBUG', accessLogRetentionDays: 30 },
    kms: { customerManagedKey: false },
    removalPolicy: 'destroy',
    athena: { bytesScannedCutoffPerQuery: 1 * GIB },
  },
  staging: {
    ...COMMON,
    stage: 'staging',
    fees: ALPACA_FEES,
    cohort: {
      ...COMMON.cohort,
      agentCount: 16,
      bankrollUsd: 25_000,
      bankrollLimits: { minUsd: 1_000, maxUsd: 100_000 },
    },
    slack: { channel: '#stagegate-staging', commandUsers: {} },
    audit: { ...COMMON.audit, objectLockMode: 'GOVERNANCE', retentionDays: 30 },
    logs: { retentionDays: 30, level: 'INFO', accessLogRetentionDays: 90 },
    kms: { customerManagedKey: true },
    removalPolicy: 'destroy',
    athena: { bytesScannedCutoffPerQuery: 5 * GIB },
  },
  prod: {
    ...COMMON,
    stage: 'prod',
    fees: ALPACA_FEES,
    cohort: {
      ...COMMON.cohort,
      agentCount: 32,
      bankrollUsd: 50_000,
      bankrollLimits: { minUsd: 1_000, maxUsd: 100_000 },
    },
    slack: { channel: '#stagegate-prod', commandUsers: {} },
    // Seven years, the usual broker-dealer books-and-records horizon.
    audit: { ...COMMON.audit, objectLockMode: 'COMPLIANCE', retentionDays: 2555 },
    logs: { retentionDays: 365, level: 'INFO', accessLogRetentionDays: 365 },
    kms: { customerManagedKey: true },
    removalPolicy: 'retain',
    athena: { bytesScannedCutoffPerQuery: 10 * GIB },
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `override` into `base`: objects merge key by key, arrays and scalars replace. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = deepMerge(base[key], value);
  }
  return out;
}

/**
 * Builds and validates one stage's configuration.
 *
 * @param stage `dev` | `staging` | `prod`.
 * @param overrides partial config merged over {@link DEFAULTS} (objects merge, arrays replace),
 *   typically from CDK context `stagegate:<stage>`; `stage` itself cannot be overridden.
 * @returns the validated {@link EnvironmentConfig}.
 * @throws ValidationError naming the first invalid field (e.g. `schedules.timezone`), also
 *   when `stage` is not one of {@link STAGES} (field `stage`).
 */
export function loadEnvironmentConfig(
  stage: Stage,
  overrides?: DeepPartial<EnvironmentConfig> | Record<string, unknown>,
): EnvironmentConfig {
  const defaults = (DEFAULTS as Record<string, DeepPartial<EnvironmentConfig> | undefined>)[stage];
  if (!defaults) {
    return parseEnvironmentConfig({ stage });
  }
  return parseEnvironmentConfig({ ...(deepMerge(defaults, overrides) as object), stage });
}

/** The validated defaults of every stage (no account; see {@link loadEnvironmentConfig}). */
export const environments: Readonly<Record<Stage, EnvironmentConfig>> = Object.fromEntries(
  STAGES.map((stage) => [stage, loadEnvironmentConfig(stage)]),
) as Record<Stage, EnvironmentConfig>;
