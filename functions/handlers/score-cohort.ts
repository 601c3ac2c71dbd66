/**
 * Step "ScoreCohort": scores every agent and the parent wallet (PnL, Sharpe, drawdown,
 * utilization, breaches) and stores the ranked score document as an artifact.
 *
 * Event: `{ prepared: PreparedCohort, run: RunOutput }`. Returns `ScoreOutput`.
 */
import * as z from 'zod';
import { getRuntime } from '../composition/runtime.js';
import {
  PreparedCohortSchema,
  RunOutputSchema,
  scoreCohortStep,
} from '../core/use-cases/intraday-cohort.js';
import { makeHandler } from './shared/handler.js';
import { logger, MetricUnit, metrics } from './shared/observability.js';

const EventSchema = z.object({ prepared: PreparedCohortSchema, run: RunOutputSchema });

export const handler = makeHandler(
  'score-cohort',
  EventSchema,
  async (event) => {
    logger.appendKeys({ cohortId: event.prepared.cohortId });
    const out = await scoreCohortStep(getRuntime(), event);
    metrics.addMetric('BankrollUtilization', MetricUnit.Percent, out.parent.meanUtilization * 100);
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
