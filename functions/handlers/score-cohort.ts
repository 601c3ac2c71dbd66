/**
 * Step "ScoreCohort": scores every agent and the parent wallet (PnL, Sharpe, drawdown,
 * utilization, breaches) and stores the ranked score document as an artifact.
 *
 * Event: `{ prepared: PreparedCohort, run: RunOutput }`. Returns `ScoreOutput`.
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import {
  PreparedCohortSchema,
  RunOutputSchema,
  scoreCohortStep,
} from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({ prepared: PreparedCohortSchema, run: RunOutputSchema });

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler(
    'score-cohort',
    EventSchema,
    async (event) => {
      logger.appendKeys({ cohortId: event.prepared.cohortId });
      const out = await scoreCohortStep(await provide(), event);
      metrics.addMetric(
        'BankrollUtilization',
        MetricUnit.Percent,
        out.parent.meanUtilization * 100,
      );
      metrics.addMetric('IdleAgents', MetricUnit.Count, out.idleAgents);
      metrics.addMetric(
        'ParentMaxDrawdownPercent',
        MetricUnit.Percent,
        out.parent.maxDrawdownFraction * 100,
      );
      logger.info('cohort scored', { totalPnlUsd: out.parent.totalPnlUsd });
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
