/**
 * Audit records that functions append themselves (stage, gates, complete) are appended once
 * per step under a Step Functions Retry, on the local stack: DynamoDB Local + s3rver, a real
 * cohort, the real stage-promotion / evaluate-gates / complete-promotion handlers over the
 * local composition, and their Task states of the shipped promotion-pipeline ASL run by the
 * local interpreter. Each function's first attempt commits its records and then fails (its
 * answer lost); the clock moves a minute before the Retry, so the retry's records would differ
 * in content (`evaluated_at`, `resumed`). With the ASL's `step` the promotion's stream holds
 * one set of records; without it (the control) the same retries append a second set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../../functions/core/errors.js';
import type { PromotionDeps } from '../../../functions/core/use-cases/promotion.js';
import { createHandler as completeHandler } from '../../../functions/handlers/complete-promotion.js';
import { createHandler as gatesHandler } from '../../../functions/handlers/evaluate-gates.js';
import { createHandler as stageHandler } from '../../../functions/handlers/stage-promotion.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
} from '../../../local/asl-runner.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { readAuditObjects } from '../../support/audit.js';
import { runTestCohort } from '../../support/cohort.js';
import { DATA_ROOT, REPO_ROOT } from '../../support/paths.js';

let stack: LocalStack;
let cohortId: string;
/** 10:30 New York on 2013-10-08: inside the promotion window. */
const AT = Date.parse('2013-10-08T14:30:00.000Z');

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortId = await runTestCohort(stack, {
    sessionDate: '2013-10-07',
    executionName: 'it-step-scoped-cohort',
    agentCount: 12,
  });
});

afterAll(async () => {
  await stack?.stop();
});

type State = Record<string, unknown> & { Parameters: Record<string, unknown> };

/**
 * StageCandidate -> EvaluateGates -> GatesFailed (complete-promotion) of the shipped
 * promotion pipeline, their Retry kept and Catch dropped; `withoutStep` removes `step`.
 */
function definition(withoutStep: boolean) {
  const asl = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'statemachines', 'promotion-pipeline.asl.json'), 'utf8'),
  ) as { States: Record<string, State> };
  const take = (name: string, fn: string, next: string | null): State => {
    const s = structuredClone(asl.States[name]) as State;
    s.Resource = localFunctionArn(fn);
    expect(s.Parameters.step).toEqual({ 'execution_id.$': '$$.Execution.Id', state: name });
    if (withoutStep) delete s.Parameters.step;
    delete s.Catch;
    delete s.Next;
    return next ? { ...s, Next: next } : { ...s, End: true };
  };
  return {
    StartAt: 'StageCandidate',
    States: {
      StageCandidate: take('StageCandidate', 'StagePromotion', 'Staged'),
      Staged: {
        Type: 'Pass',
        Parameters: { 'promotion.$': '$.staged.promotion' },
        Next: 'EvaluateGates',
      },
      EvaluateGates: take('EvaluateGates', 'EvaluateGates', 'GatesFailed'),
      GatesFailed: take('GatesFailed', 'CompletePromotion', null),
    },
  };
}

/**
 * The real handler of `name` over the stack's promotion dependencies; its first attempt
 * commits and then throws TransientError (in every Retry), and the clock moves a minute.
 */
type CreateHandler = (
  provide: () => PromotionDeps,
) => (event: unknown, context: Context) => Promise<unknown>;

function flaky(
  placeholder: string,
  name: string,
  create: CreateHandler,
): { fn: LocalFunction; attempts: () => number } {
  const handler = create(() => stack.promotion);
  let attempts = 0;
  return {
    attempts: () => attempts,
    fn: {
      placeholder,
      name,
      handler: async (event: unknown, context: Context) => {
        attempts += 1;
        const out = await handler(event, context);
        if (attempts === 1) {
          stack.clock.set(stack.clock.now() + 60_000);
          throw new TransientError('injected: answer lost after the commit');
        }
        return out;
      },
    },
  };
}

/** Runs the three steps, each retried once after committing; returns the stream's records. */
async function runRetried(label: string, withoutStep: boolean) {
  stack.clock.set(AT);
  const fns = [
    flaky('StagePromotionFunctionArn', 'StagePromotion', stageHandler),
    flaky('EvaluateGatesFunctionArn', 'EvaluateGates', gatesHandler),
    flaky('CompletePromotionFunctionArn', 'CompletePromotion', completeHandler),
  ];
  const machine = LocalStateMachine.fromDefinition(
    `step-scoped-${label}`,
    definition(withoutStep),
    fns.map((f) => f.fn),
    { retryIntervalMs: 1 },
  );
  const result = await machine.execute(
    // A distinct approval id per run: a promotion (and its audit stream) of its own.
    { request: { source: 'test', cohortId, approvalId: `it-step-${label}` } },
    { executionName: `it-step-scoped-${label}` },
  );
  expect(result.status).toBe('SUCCEEDED');
  expect(fns.map((f) => f.attempts())).toEqual([2, 2, 2]);
  const promotionId = (result.stateOutputs.Staged as { promotion: { promotionId: string } })
    .promotion.promotionId;
  const records = (await readAuditObjects(stack.servers.s3Endpoint)).filter(
    (r) => r.stream === `promotion:${promotionId}`,
  );
  const kinds = (kind: string) => records.filter((r) => r.kind === kind);
  return { result, records, kinds };
}

describe('functions that append their own audit records, retried by Step Functions', () => {
  it('append one promotion_staged, one gate table and one promotion_completed per step', async () => {
    // Act
    const { result, records, kinds } = await runRetried('once', false);
    // Assess: one set of records, chained without a gap
    expect(kinds('promotion_staged')).toHaveLength(1);
    expect(kinds('gate_evaluated')).toHaveLength(17);
    expect(kinds('promotion_completed')).toHaveLength(1);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    // Assess: the retried gates step decided on the recorded evaluation (the first attempt's
    // clock), not on a second, unrecorded one
    const gates = result.stateOutputs.EvaluateGates as { gates: { nowIso: string } };
    const recordedAt = JSON.parse(String(kinds('gate_evaluated')[0]?.payload)) as {
      evaluated_at: string;
    };
    expect(gates.gates.nowIso).toBe(recordedAt.evaluated_at);
    expect(recordedAt.evaluated_at).toBe(new Date(AT + 60_000).toISOString());
  });

  it('without the step key the same retries append every record twice (why the key exists)', async () => {
    // Act
    const { kinds } = await runRetried('control', true);
    // Assess
    expect(kinds('promotion_staged')).toHaveLength(2);
    expect(kinds('gate_evaluated')).toHaveLength(34);
    expect(kinds('promotion_completed')).toHaveLength(2);
  });
});
