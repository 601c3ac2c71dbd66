/**
 * The Lambda environment variables the promotion pipeline reads, derived from one
 * environment's config. Used by the workflow stack (AWS) and by the local mode, so both run
 * the pipeline with the same thresholds.
 */
import { parseCohortConfig } from '../../functions/core/cohort/config.js';
import { ValidationError } from '../../functions/core/errors.js';
import { GateThresholdsSchema } from '../../functions/core/gates/thresholds.js';
import { PromotionConfigSchema } from '../../functions/core/use-cases/promotion-records.js';
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
  const thresholds = GateThresholdsSchema.safeParse({
    ...cfg.gates,
    promotionWindowOpenNy: window.opensAt,
    promotionWindowCloseNy: window.closesAt,
  });
  if (!thresholds.success) {
    const issue = thresholds.error.issues[0];
    throw new ValidationError(
      `gates.${issue?.path.join('.') || '(root)'}`,
      issue?.message ?? 'invalid gate threshold',
    );
  }
  const pipeline = PromotionConfigSchema.safeParse(cfg.pipeline);
  if (!pipeline.success) {
    const issue = pipeline.error.issues[0];
    throw new ValidationError(
      `pipeline.${issue?.path.join('.') || '(root)'}`,
      issue?.message ?? 'invalid pipeline setting',
    );
  }
  // The simulated broker shares the cohort simulator's fill model and costs (parity).
  const cohortDefaults = parseCohortConfig({ bankrollUsd: cfg.cohort.bankrollUsd });
  const { accountId, ...simulated } = cfg.broker.simulated;
  return {
    GATE_THRESHOLDS_JSON: JSON.stringify(thresholds.data),
    PROMOTION_CONFIG_JSON: JSON.stringify(pipeline.data),
    BROKER_MODE: cfg.broker.adapter,
    BROKER_ACCOUNT: accountId,
    SIMULATED_BROKER_JSON: JSON.stringify({
      ...simulated,
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
