/**
 * The per-market start signal of the workflows both markets share: the first step of every
 * execution of the intraday cohort, the promotion pipeline, the learning cycle and the Day-3
 * go/no-go counts one start of its workflow for the request's market. The equity and crypto
 * schedules start the SAME state machines, so `ExecutionsStarted` cannot tell a missing equity
 * start from a crypto one; each market's did-not-run alarm (lib/stacks/workflow-stack.ts)
 * counts these per UTC day instead.
 *
 * Metric: `WorkflowStarts` (count, EMF, namespace `stagegate/<stage>`), dimensions
 * `service=stagegate`, `workflow` ({@link SharedWorkflow}) and `market` (`equity-usa` |
 * `crypto`: the request's `market`, `equity-usa` when it names none, as the use cases read it).
 * Counted before the request is validated: a start whose request is then refused still ran
 * (its `input_rejected` record and the executions-failed alarm tell the rest).
 */

import { MetricUnit, metrics } from '../../adapters/observability.js';
import type { Market } from '../../core/calendar/market-calendar.js';

/** The EMF metric name (the did-not-run alarms read it). */
export const WORKFLOW_STARTS_METRIC = 'WorkflowStarts';

/** The workflows both markets start, by their state machine's name without `stagegate-<stage>-`. */
export const SHARED_WORKFLOWS = [
  'intraday-cohort',
  'promotion-pipeline',
  'learning-cycle',
  'day3-go-no-go',
] as const;
export type SharedWorkflow = (typeof SHARED_WORKFLOWS)[number];

/** The market a raw execution request names: `crypto` when it says so, else `equity-usa`. */
export function marketOfRequest(request: unknown): Market {
  const market =
    request !== null && typeof request === 'object'
      ? (request as { market?: unknown }).market
      : undefined;
  return market === 'crypto' ? 'crypto' : 'equity-usa';
}

/** Emits one `WorkflowStarts` of `workflow` for the market `request` names (see the module comment). */
export function countWorkflowStart(workflow: SharedWorkflow, request: unknown): void {
  metrics
    .singleMetric()
    .addDimension('workflow', workflow)
    .addDimension('market', marketOfRequest(request))
    .addMetric(WORKFLOW_STARTS_METRIC, MetricUnit.Count, 1);
}
