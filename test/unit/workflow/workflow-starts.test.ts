/**
 * The per-market start signal of the workflows both markets share
 * (functions/handlers/shared/workflow-starts.ts): the first step of the intraday cohort, the
 * promotion pipeline, the learning cycle and the Day-3 go/no-go emits one `WorkflowStarts`
 * with the workflow and the request's market, before anything else (a start whose request is
 * then refused still counts), so each market's did-not-run alarm sees its own starts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHandler as loadMarketData } from '../../../functions/handlers/load-market-data.js';
import { createHandler as runLearningCycle } from '../../../functions/handlers/run-learning-cycle.js';
import { createHandler as selectDay3Candidate } from '../../../functions/handlers/select-day3-candidate.js';
import {
  countWorkflowStart,
  marketOfRequest,
  type SharedWorkflow,
  WORKFLOW_STARTS_METRIC,
} from '../../../functions/handlers/shared/workflow-starts.js';
import { createHandler as stagePromotion } from '../../../functions/handlers/stage-promotion.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { spyOnSingleMetrics } from '../../support/metrics.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('marketOfRequest', () => {
  it('reads crypto only when the request names it; anything else is the equity default', () => {
    expect(marketOfRequest({ source: 'schedule', market: 'crypto' })).toBe('crypto');
    expect(marketOfRequest({ source: 'schedule', market: 'equity-usa' })).toBe('equity-usa');
    expect(marketOfRequest({ source: 'schedule' })).toBe('equity-usa');
    expect(marketOfRequest(null)).toBe('equity-usa');
    expect(marketOfRequest('crypto')).toBe('equity-usa');
  });
});

describe('countWorkflowStart', () => {
  it('emits one WorkflowStarts with the workflow and market dimensions', () => {
    const emitted = spyOnSingleMetrics();
    countWorkflowStart('learning-cycle', { market: 'crypto' });
    expect(emitted).toEqual([
      {
        dimensions: { workflow: 'learning-cycle', market: 'crypto' },
        name: WORKFLOW_STARTS_METRIC,
        value: 1,
      },
    ]);
  });
});

describe('the first step of each shared workflow', () => {
  const refused = () => {
    throw new Error('no dependencies in this test');
  };
  it.each([
    ['intraday-cohort', 'load-market-data', loadMarketData(refused)],
    ['promotion-pipeline', 'stage-promotion', stagePromotion(refused)],
    ['learning-cycle', 'run-learning-cycle', runLearningCycle(refused)],
    ['day3-go-no-go', 'select-day3-candidate', selectDay3Candidate(refused)],
  ] as const)(
    '%s (%s) counts its start for the request market before it runs',
    async (workflow, name, handler) => {
      const emitted = spyOnSingleMetrics();
      const execution = { id: 'arn:aws:states:us-east-1:1:execution:m:e-1', name: 'e-1' };
      const call = (request: unknown) =>
        handler({ request, execution }, localLambdaContext(name, 10_000));

      await expect(call({ source: 'schedule', market: 'crypto' })).rejects.toThrow(
        /no dependencies/,
      );
      await expect(call({ source: 'schedule' })).rejects.toThrow(/no dependencies/);

      const starts = emitted.filter((e) => e.name === WORKFLOW_STARTS_METRIC);
      expect(starts.map((e) => e.dimensions)).toEqual([
        { workflow: workflow satisfies SharedWorkflow, market: 'crypto' },
        { workflow, market: 'equity-usa' },
      ]);
    },
  );
});
