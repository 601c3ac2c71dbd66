/**
 * The Lambda environment variables the promotion pipeline reads, derived from one
 * environment's config. Used by the workflow stack (AWS) and by the local mode, so both run
 * the pipeline with the same thresholds.
 */
import type { FillCosts } from '../../functions/core/cohort/fill-model.js';
import { parseOrThrow, ValidationError } from '../../functions/core/errors.js';
import { stageFeeCosts } from '../../functions/core/exchange/fee-schedules.js';
import { GateThresholdsSchema } from '../../functions/core/gates/thresholds.js';
import {
  type ChatOpsConfig,
  ChatOpsConfigSchema,
} from '../../functions/core/use-cases/chatops-commands.js';
import { day3ConfigFrom } from '../../functions/core/use-cases/day3-records.js';
import { parseLearningConfig } from '../../functions/core/use-cases/learning.js';
import { PromotionConfigSchema } from '../../functions/core/use-cases/promotion-records.js';
import { parseIngestionConfig } from '../../functions/core/use-cases/session-ingestion.js';
import type { EnvironmentConfig } from './environment-config.js';

/**
 * `GATE_THRESHOLDS_JSON`, `PROMOTION_CONFIG_JSON`, `BROKER_MODE`, `SIMULATED_BROKER_JSON`,
 * `BROKER_ACCOUNT` (see `functions/config/env.ts`).
 *
 * The thresholds and pipeline settings are checked with the very schemas the Lambdas parse
 * them with (`GateThresholdsSchema`, `PromotionConfigSchema`), so a config synth accepts is
 * never refused by the pipeline's first step.
 *
 * @throws ValidationError naming the field: `promotion.windows` when there is no window,
 *   `gates.<threshold>` for a missing or invalid threshold (window open/close included),
 *   `pipeline.<field>` for an invalid pipeline setting.
 */
export function pipelineEnvironment(cfg: EnvironmentConfig): Record<string, string> {
  const window = cfg.promotion.windows[0];
  if (!window) throw new ValidationError('promotion.windows', 'needs at least one window');
  const thresholds = parseOrThrow(
    GateThresholdsSchema,
    {
      ...cfg.gates,
      promotionWindowOpenNy: window.opensAt,
      promotionWindowCloseNy: window.closesAt,
      ...(cfg.promotion.cryptoWindow
        ? {
            cryptoPromotionWindowOpenUtc: cfg.promotion.cryptoWindow.opensAt,
            cryptoPromotionWindowCloseUtc: cfg.promotion.cryptoWindow.closesAt,
          }
        : {}),
    },
    'gates',
  );
  const pipeline = parseOrThrow(PromotionConfigSchema, cfg.pipeline, 'pipeline');
  // The simulated broker shares the cohort simulator's fill model and costs (parity).
  const { accountId, ...simulated } = cfg.broker.simulated;
  return {
    GATE_THRESHOLDS_JSON: JSON.stringify(thresholds),
    PROMOTION_CONFIG_JSON: JSON.stringify(pipeline),
    BROKER_MODE: cfg.broker.adapter,
    BROKER_ACCOUNT: accountId,
    SIMULATED_BROKER_JSON: JSON.stringify({
      ...simulated,
      costs: stageCosts(cfg),
      fractionalShares: !cfg.pipeline.wholeShares,
    }),
  };
}

/**
 * The stage's equity costs (`fees.preset`, with `fees.secFeePerUsdSold` when set): what the
 * cohort simulator (`COHORT_COSTS_JSON`), the simulated broker and the paper session's
 * reference simulation (`SIMULATED_BROKER_JSON.costs`) all charge, so they stay at parity.
 * (The config schema refuses an SEC rate with `cohort_default`, on `fees.secFeePerUsdSold`.)
 */
export function stageCosts(cfg: EnvironmentConfig): Required<FillCosts> {
  return stageFeeCosts(cfg.fees.preset, cfg.fees.secFeePerUsdSold);
}

/**
 * `COHORT_COSTS_JSON`, the equity costs the intraday cohort's prepare step
 * (`load-market-data`) simulates with: {@link stageCosts}, read back with `FillCostsSchema`.
 */
export function cohortEnvironment(cfg: EnvironmentConfig): { COHORT_COSTS_JSON: string } {
  return { COHORT_COSTS_JSON: JSON.stringify(stageCosts(cfg)) };
}

/**
 * Plain-string `definitionSubstitutions` of the intraday-cohort state machine (besides the
 * function ARNs): `CohortShardAgents`, agents per shard of the sharded path (docs/scale.md),
 * from `cohort.shardAgents` (already validated 1..1000 by the config schema). `Init` turns it
 * into a number with `States.StringToJson`.
 */
export function cohortStateMachineValues(cfg: EnvironmentConfig): { CohortShardAgents: string } {
  return { CohortShardAgents: String(cfg.cohort.shardAgents) };
}

/**
 * `LEARNING_CONFIG_JSON`, the settings `run-learning-cycle` reads (lookbackHours 6|12|24,
 * eliteCount, mutationRate and crossoverRate as fractions, tournamentSize), checked with the
 * very schema the handler parses it with (`LearningConfigSchema`). Used by the workflow stack
 * and by the local mode, so both evolve the pool with the same settings.
 *
 * @throws ValidationError naming `learning.<field>` when a setting is invalid.
 */
export function learningEnvironment(cfg: EnvironmentConfig): { LEARNING_CONFIG_JSON: string } {
  return { LEARNING_CONFIG_JSON: JSON.stringify(parseLearningConfig(cfg.learning)) };
}

/**
 * `DAY3_CONFIG_JSON`, the Day-3 settings every Day-3 function reads (approval timeout in s
 * from `promotion.approvalTimeoutHours`, heartbeat `timeout - 60 s`, micro-live slice
 * fraction and USD floor, the approver allow-list, the stage's leverage policy and rollback
 * limits), built with the runtime's own `day3ConfigFrom`.
 *
 * @throws ValidationError naming the field when the config would be refused (for example an
 *   empty approver list: `day3.approvers`).
 */
export function day3Environment(cfg: EnvironmentConfig): { DAY3_CONFIG_JSON: string } {
  const day3 = day3ConfigFrom({
    approvalTimeoutHours: cfg.promotion.approvalTimeoutHours,
    microLive: cfg.promotion.microLive,
    approvers: cfg.approval.approvers,
    ...(cfg.approval.chain ? { chain: cfg.approval.chain } : {}),
    leveragePolicy: cfg.promotion.leveragePolicy,
    rollback: cfg.promotion.rollback,
  });
  return { DAY3_CONFIG_JSON: JSON.stringify(day3) };
}

/**
 * `INGESTION_CONFIG_JSON`, the settings `ingest-session` reads: the universes
 * (`cohort.symbols`, and `cohort.cryptoSymbols` as `cryptoSymbols` when not empty: the crypto
 * schedule's requests name `market: crypto`), the daily lookback and the data-quality limits,
 * checked with the schema the handler parses it with (`IngestionConfigSchema`).
 *
 * @throws ValidationError naming `ingestion.<field>` when a setting is invalid.
 */
export function ingestionEnvironment(cfg: EnvironmentConfig): {
  INGESTION_CONFIG_JSON: string;
  ALPACA_DATA_FEED: string;
} {
  const crypto = cfg.cohort.cryptoSymbols ?? [];
  const config = parseIngestionConfig({
    symbols: cfg.cohort.symbols,
    ...(crypto.length > 0 ? { cryptoSymbols: crypto } : {}),
    dailyLookbackDays: cfg.ingestion.dailyLookbackDays,
    quality: cfg.ingestion.quality,
  });
  return { INGESTION_CONFIG_JSON: JSON.stringify(config), ALPACA_DATA_FEED: cfg.ingestion.feed };
}

/**
 * The settings of the `/stagegate` plan and `fund?` commands and the daily report
 * (`CHATOPS_CONFIG_JSON`): the cohort bankroll and its limits, the gates' drawdown circuit
 * breaker, the equity calendar, the stage's leverage policy and the Day-3 minimum PSR.
 * @throws ValidationError naming the field when the config would be refused at run time.
 */
export function chatOpsConfigOf(cfg: EnvironmentConfig): ChatOpsConfig {
  return parseOrThrow(
    ChatOpsConfigSchema,
    {
      bankrollUsd: cfg.cohort.bankrollUsd,
      bankrollLimits: cfg.cohort.bankrollLimits,
      maxDrawdownFraction: cfg.gates.maxParentDrawdownFraction,
      market: 'equity-usa',
      leveragePolicy: cfg.promotion.leveragePolicy,
      minPsr: cfg.gates.minPsr,
    },
    'chatops',
  );
}
