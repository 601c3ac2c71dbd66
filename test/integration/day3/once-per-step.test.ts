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
 * - `RequestApproval` (`.waitForTaskToken`: every attempt gets a new task token): its first
 *   attempt stores the request, records `approval_requested` and posts the message, then
 *   fails; the retry, a minute later with a new token, keeps one request with the first
 *   deadline (the posted link's), appends nothing and posts nothing, and an approval through
 *   the posted message resumes the execution on the live token (the first is dead). Without
 *   `step` the record doubles (control).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../../functions/core/errors.js';
import type { Day3Selection } from '../../../functions/core/use-cases/day3-records.js';
import { createHandler as requestHandler } from '../../../functions/handlers/request-approval.js';
import { createHandler as selectHandler } from '../../../functions/handlers/select-day3-candidate.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
  localLambdaContext,
} from '../../../local/asl-runner.js';
import { type LocalDay3Run, type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { localTaskTokens } from '../../../local/local-task-tokens.js';
import { DATA_ROOT, REPO_ROOT } from '../../support/paths.js';
import {
  auditRecords,
  CapturingNotifier,
  runThreeCohorts,
  slackClickBody,
  slackEvent,
} from './support.js';

let stack: LocalStack;
let run: LocalDay3Run;
let cohortIds: string[];
const notifier = new CapturingNotifier();
const SLACK_USER = 'U024BE7LH';
const SIGNING_SECRET = 'slack-signing-secret-for-tests-only';
/** 10:30 New York on 2013-10-10, the session after Day 3. */
const AT = Date.parse('2013-10-10T14:30:00.000Z');

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortIds = await runThreeCohorts(stack, 'it-d3-once');
  run = await stack.day3({
    approvalBaseUrl: 'https://approvals.example.com',
    approvers: ['web:alice@example.com', `slack:${SLACK_USER}`],
    notifier,
    slackSigningSecret: SIGNING_SECRET,
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

/**
 * A handler whose first attempt commits and then throws TransientError; the clock moves a
 * minute. `events` are the events of its attempts, `retried` settles when the second returned.
 */
function failsOnceAfterCommit(
  placeholder: string,
  name: string,
  handler: (event: unknown, context: Context) => Promise<unknown>,
): { fn: LocalFunction; attempts: () => number; events: unknown[]; retried: Promise<void> } {
  let attempts = 0;
  const events: unknown[] = [];
  let resolveRetried: () => void = () => undefined;
  const retried = new Promise<void>((resolve) => {
    resolveRetried = resolve;
  });
  return {
    attempts: () => attempts,
    events,
    retried,
    fn: {
      placeholder,
      name,
      handler: async (event: unknown, context: Context) => {
        attempts += 1;
        events.push(event);
        const out = await handler(event, context);
        if (attempts === 2) resolveRetried();
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

/**
 * SelectCandidate -> RequestApproval of the shipped ASL (Retry kept, Catch dropped), the
 * request's first attempt committing and then failing; once the retry waits, the posted
 * message's Approve button is clicked (a signed Slack request).
 */
async function approvalRetried(label: string, withoutStep: boolean) {
  stack.clock.set(AT);
  const states = day3States();
  const select = structuredClone(states.SelectCandidate) as State;
  select.Resource = localFunctionArn('SelectDay3Candidate');
  const request = structuredClone(states.RequestApproval) as State;
  request.Parameters.FunctionName = localFunctionArn('RequestApproval');
  const payload = request.Parameters.Payload as Record<string, unknown>;
  expect(payload.step).toEqual({ 'execution_id.$': '$$.Execution.Id', state: 'RequestApproval' });
  if (withoutStep) delete payload.step;
  for (const s of [select, request]) {
    delete s.Catch;
    delete s.Next;
  }
  const flaky = failsOnceAfterCommit(
    'RequestApprovalFunctionArn',
    'RequestApproval',
    requestHandler(() => run.day3),
  );
  const machine = LocalStateMachine.fromDefinition(
    `d3-request-${label}`,
    {
      StartAt: 'SelectCandidate',
      States: {
        SelectCandidate: { ...select, Next: 'RequestApproval' },
        RequestApproval: { ...request, End: true },
      },
    },
    [
      {
        placeholder: 'SelectDay3CandidateFunctionArn',
        name: 'SelectDay3Candidate',
        handler: selectHandler(() => run.day3),
      },
      flaky.fn,
    ],
    { retryIntervalMs: 1 },
  );
  const postedBefore = notifier.posted.length;
  const executionName = `it-d3-request-${label}`;
  const execution = machine.execute({ request: { source: 'test', cohortIds } }, { executionName });
  await flaky.retried;
  const tokens = flaky.events.map((e) => (e as { taskToken: string }).taskToken);
  const waiting = localTaskTokens.waitingTasks().map((t) => t.taskToken);
  const records = (await auditRecords(stack)).filter(
    (r) => r.stream === `execution:${executionName}`,
  );
  const approvalId = String(records[0]?.payload.approval_id);
  const body = slackClickBody({ userId: SLACK_USER, actionId: 'approve', approvalId });
  const clicked = (await run.http.slack(
    slackEvent({ body, secret: SIGNING_SECRET, timestamp: Math.floor(stack.clock.now() / 1000) }),
    localLambdaContext('Test', 30_000),
  )) as { statusCode: number; body: string };
  const result = await execution;
  return { tokens, waiting, records, clicked, result, posted: notifier.posted.slice(postedBefore) };
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

  it('RequestApproval retried after its commit: one request, one record, one message; the approval acts on the live token', async () => {
    // Act
    const { tokens, waiting, records, clicked, result, posted } = await approvalRetried(
      'once',
      false,
    );

    // Assess: two attempts, two tokens; only the retry's is waiting (the first is dead)
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(waiting).toContain(tokens[1]);
    expect(waiting).not.toContain(tokens[0]);
    // Assess: one approval_requested, one message, with the first attempt's deadline (the
    // clock moved a minute before the retry)
    expect(records.map((r) => r.kind)).toEqual(['approval_requested']);
    expect(posted).toHaveLength(1);
    const selection = (result.stateOutputs.SelectCandidate as { selection: Day3Selection })
      .selection;
    const deadlineS = Math.min(
      selection.approval.timeoutSeconds,
      selection.approval.heartbeatSeconds,
    );
    expect(records[0]?.payload.expires_at).toBe(new Date(AT + deadlineS * 1000).toISOString());
    // Assess: the click through the posted message decided the request and resumed the
    // execution on the live token
    expect(clicked.statusCode).toBe(200);
    expect(JSON.parse(clicked.body)).toMatchObject({ ok: true, decision: 'approved' });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ decision: { by: `slack:${SLACK_USER}` } });
  });

  it('without the step key the same RequestApproval retry records approval_requested twice (control)', async () => {
    // Act
    const { records, posted, result } = await approvalRetried('control', true);

    // Assess: the record doubles; the request and the message stay one (store and message ref)
    expect(records.filter((r) => r.kind === 'approval_requested')).toHaveLength(2);
    expect(posted).toHaveLength(1);
    expect(result.status).toBe('SUCCEEDED');
  });
});
