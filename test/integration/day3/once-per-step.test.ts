/**
 * The Day-3 go/no-go's own audit appends are once per step under a Step Functions Retry, on
 * the local stack (DynamoDB Local, s3rver, three real cohorts) with the shipped ASL's states
 * run by the local interpreter and the real handlers over the local composition:
 *
 * - `SelectCandidate`: its first attempt commits the review's gate records and then fails
 *   (its answer lost); the clock moves a minute before the Retry. With the ASL's `step` the
 *   review's stream holds one gate table and the retry's selection carries the recorded
 *   verdicts and time (the decision follows the record); without it (the control) the same
 *   retry appends a second table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../../functions/core/errors.js';
import type { Day3Selection } from '../../../functions/core/use-cases/day3-records.js';
import { createHandler as selectHandler } from '../../../functions/handlers/select-day3-candidate.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
} from '../../../local/asl-runner.js';
import { type LocalDay3Run, type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT, REPO_ROOT } from '../../support/paths.js';
import { auditRecords, CapturingNotifier, runThreeCohorts } from './support.js';

let stack: LocalStack;
let run: LocalDay3Run;
let cohortIds: string[];
/** 10:30 New York on 2013-10-10, the session after Day 3. */
const AT = Date.parse('2013-10-10T14:30:00.000Z');

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortIds = await runThreeCohorts(stack, 'it-d3-once');
  run = await stack.day3({
    approvalBaseUrl: 'https://approvals.example.com',
    approvers: ['web:alice@example.com'],
    notifier: new CapturingNotifier(),
    demoOverride: true,
  });
});

afterAll(async () => {
  await stack?.stop();
});

type State = Record<string, unknown> & { Parameters: Record<string, unknown> };

/** The shipped Day-3 ASL's states. */
function day3States(): Record<string, State> {
  const asl = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'statemachines', 'day3-go-no-go.asl.json'), 'utf8'),
  ) as { States: Record<string, State> };
  return asl.States;
}

/** A handler whose first attempt commits and then throws TransientError; the clock moves a minute. */
function failsOnceAfterCommit(
  placeholder: string,
  name: string,
  handler: (event: unknown, context: Context) => Promise<unknown>,
): { fn: LocalFunction; attempts: () => number } {
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

/** SelectCandidate of the shipped ASL alone (Retry kept, Catch dropped), retried once after its commit. */
async function selectRetried(label: string, withoutStep: boolean) {
  stack.clock.set(AT);
  const state = structuredClone(day3States().SelectCandidate) as State;
  state.Resource = localFunctionArn('SelectDay3Candidate');
  expect(state.Parameters.step).toEqual({
    'execution_id.$': '$$.Execution.Id',
    state: 'SelectCandidate',
  });
  if (withoutStep) delete state.Parameters.step;
  delete state.Catch;
  delete state.Next;
  const select = failsOnceAfterCommit(
    'SelectDay3CandidateFunctionArn',
    'SelectDay3Candidate',
    selectHandler(() => run.day3),
  );
  const machine = LocalStateMachine.fromDefinition(
    `d3-select-${label}`,
    { StartAt: 'SelectCandidate', States: { SelectCandidate: { ...state, End: true } } },
    [select.fn],
    { retryIntervalMs: 1 },
  );
  const result = await machine.execute(
    { request: { source: 'test', cohortIds } },
    { executionName: `it-d3-select-${label}` },
  );
  expect(result.status).toBe('SUCCEEDED');
  expect(select.attempts()).toBe(2);
  const selection = (result.output as { selection: Day3Selection }).selection;
  const records = (await auditRecords(stack)).filter(
    (r) => r.stream === `promotion:${selection.reviewId}`,
  );
  return { selection, records };
}

describe('the Day-3 go/no-go retried by Step Functions', () => {
  it('SelectCandidate records one gate table, and the retry decides on the recorded verdicts', async () => {
    // Act
    const { selection, records } = await selectRetried('once', false);

    // Assess: one record per gate (the 16 order-time gates and the evidence gates), no gap
    const gates = records.filter((r) => r.kind === 'gate_evaluated');
    expect(gates).toHaveLength(selection.gates.results.length);
    expect(gates.length).toBeGreaterThan(16);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    // Assess: the retry's selection is the recorded one (the first attempt's clock, a minute
    // before the retry's), verdict by verdict
    expect(selection.gates.nowIso).toBe(new Date(AT).toISOString());
    expect(gates.every((r) => r.payload.evaluated_at === selection.gates.nowIso)).toBe(true);
    expect(
      gates.map((r) => ({
        gate: r.payload.gate,
        verdict: r.payload.verdict,
        reason: r.payload.reason,
      })),
    ).toEqual(
      selection.gates.results.map((g) => ({ gate: g.gate, verdict: g.verdict, reason: g.reason })),
    );
  });

  it('without the step key the same SelectCandidate retry records the gate table twice (control)', async () => {
    // Act
    const { selection, records } = await selectRetried('control', true);

    // Assess
    const gates = records.filter((r) => r.kind === 'gate_evaluated');
    expect(gates).toHaveLength(2 * selection.gates.results.length);
  });
});
