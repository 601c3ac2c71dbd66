/**
 * The Lambda environment variables the promotion pipeline reads, derived from one
 * environment's config. Used by the workflow stack (AWS) and by the local mode, so both run
 * the pipeline with the same thresholds.
 */
import { parseCohortConfig } from '../../functions/core/cohort/config.js';
import type { EnvironmentConfig } from './environment-config.js';

/** `GATE_THRESHOLDS_JSON`, `PROMOTION_CONFIG_JSON`, `BROKER_MODE`, `SIMULATED_BROKER_JSON`. */
export function pipelineEnvironment(cfg: EnvironmentConfig): Record<string, string> {
  const window = cfg.promotion.windows[0];
  if (!window) throw new Error('promotion.windows: needs at least one window');
  // The simulated broker shares the cohort simulator's fill model and costs (parity).
  const cohortDefaults = parseCohortConfig({ bankrollUsd: cfg.cohort.bankrollUsd });
  return {
    GATE_THRESHOLDS_JSON: JSON.stringify({
      ...cfg.gates,
      promotionWindowOpenNy: window.opensAt,
      promotionWindowCloseNy: window.closesAt,
    }),
    PROMOTION_CONFIG_JSON: JSON.stringify(cfg.pipeline),
    BROKER_MODE: cfg.broker.adapter,
    SIMULATED_BROKER_JSON: JSON.stringify({
      ...cfg.broker.simulated,
      costs: {
        slippageBps: cohortDefaults.slippageBps,
        feePerShareUsd: cohortDefaults.feePerShareUsd,
        minFeeUsd: cohortDefaults.minFeeUsd,
        maxFeeFraction: cohortDefaults.maxFeeFraction,
      },
      fractionalShares: !cfg.pipeline.wholeShares,
    }),
  };
}
