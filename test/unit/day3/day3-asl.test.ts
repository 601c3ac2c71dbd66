/**
 * `statemachines/day3-go-no-go.asl.json` on the local interpreter with stub handlers (no
 * servers): named scenarios asserted on the execution's path and on what each step received.
 * The timeout path ends as not approved and reaches the recording step; a rejection likewise;
 * an approval runs the nested promotion pipeline with the approved slice. Plus the structural
 * rules AWS and the local runner rely on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
  substitute,
} from '../../../local/asl-runner.js';
import { localTaskTokens } from '../../../local/local-task-tokens.js';
import { REPO_ROOT } from '../../support/paths.js';

const FILE = path.join(REPO_ROOT, 'statemachines/day3-go-no-go.asl.json');
const text = readFileSync(FILE, 'utf8');
const PLACEHOLDERS = [
  'SelectDay3CandidateFunctionArn',
  'RequestApprovalFunctionArn',
  'RecordLeverageDecisionFunctionArn',
  'ConcludeDay3FunctionArn',
  'RecordAuditFunctionArn',
  'PromotionPipelineStateMachineArn',
];

type Calls = Record<string, unknown[]>;
const calls: Calls = {};
let gatesPassed = true;
let requestBehaviour: 'wait' | 'throw' = 'wait';

function stub(name: string, result: (event: Record<string, unknown>) => unknown): LocalFunction {
  return {
    placeholder: `${name}FunctionArn`,
    name,
    handler: async (event) => {
      calls[name] = [...(calls[name] ?? []), event];
      return result(event as Record<string, unknown>);
    },
  };
}

const functions: LocalFunction[] = [
  stub('SelectDay3Candidate', () => ({
    reviewId: 'd3-x',
    gates: { passed: gatesPassed, results: [] },
    proceed: gatesPassed,
    approval: { timeoutSeconds: 14_400, heartbeatSeconds: 14_400 },
  })),
  stub('RequestApproval', () => {
    if (requestBehaviour === 'throw') {
      const err = new Error('env.APPROVAL_BASE_URL: is required');
      err.name = 'ValidationError';
      throw err;
    }
    return { approvalId: 'ignored-by-step-functions' };
  }),
  stub('RecordLeverageDecision', () => ({
    sliceId: 'ml-x',
    pipelineInput: { source: 'event', agentId: 'a0001', capitalSliceUsd: 50 },
  })),
  stub('ConcludeDay3', (e) => ({ outcome: e.kind, concluded: true })),
  stub('RecordAudit', () => ({ id: 'audit-1' })),
];
const pipeline = LocalStateMachine.fromDefinition(
  'promotion-pipeline',
  {
    StartAt: 'Record',
    States: {
      Record: {
        Type: 'Pass',
        Parameters: { promotionId: 'pr-x', outcome: 'promoted', reason: 'filled', 'input.$': '$' },
        End: true,
      },
    },
  },
  [],
);
const machinePromise = LocalStateMachine.load('day3-go-no-go.asl.json', functions, {
  stateMachines: { PromotionPipelineStateMachineArn: pipeline },
});

async function waitingToken(executionArn: string): Promise<string> {
  for (;;) {
    const task = localTaskTokens.waitingTasks(executionArn)[0];
    if (task) return task.taskToken;
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(() => {
  for (const k of Object.keys(calls)) delete calls[k];
  gatesPassed = true;
  requestBehaviour = 'wait';
});

describe('day3-go-no-go.asl.json scenarios', () => {
  it('timeout: ends as not approved through TimedOut, which receives the States.Timeout', async () => {
    // Prepare
    const machine = await machinePromise;

    // Act
    const result = await machine.execute({ source: 'test' }, { taskTokenTimeoutMs: 100 });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      'Init',
      'SelectCandidate',
      'GatesPassed?',
      'RequestApproval',
      'TimedOut',
      'NotApproved',
    ]);
    expect(calls.ConcludeDay3?.[0]).toMatchObject({
      kind: 'timed_out',
      error: { Error: 'States.Timeout' },
    });
    expect(result.output).toMatchObject({ outcome: 'timed_out' });
    expect(calls.RecordLeverageDecision).toBeUndefined();
  });

  it('rejection: SendTaskFailure ApprovalRejected ends as not approved through Rejected', async () => {
    // Prepare
    const machine = await machinePromise;
    const execution = machine.start({ source: 'test' });
    const token = await waitingToken(execution.executionArn);

    // Act
    await localTaskTokens.sendTaskFailure(token, 'ApprovalRejected', 'rejected by web:alice');
    const result = await execution.result;

    // Assess
    expect(result.path).toEqual([
      'Init',
      'SelectCandidate',
      'GatesPassed?',
      'RequestApproval',
      'Rejected',
      'NotApproved',
    ]);
    expect(calls.ConcludeDay3?.[0]).toMatchObject({
      kind: 'rejected',
      error: { Error: 'ApprovalRejected', Cause: 'rejected by web:alice' },
    });
  });

  it('approval: the leverage step, then the nested pipeline with the slice input, then Conclude', async () => {
    // Prepare
    const machine = await machinePromise;
    const execution = machine.start({ source: 'test' }, { executionName: 'day3-approve' });
    const token = await waitingToken(execution.executionArn);
    const decision = {
      approvalId: 'A'.repeat(22),
      decision: 'approved',
      by: 'web:alice',
      atIso: '2013-10-10T14:00:00.000Z',
      channel: 'web',
    };

    // Act
    await localTaskTokens.sendTaskSuccess(token, decision);
    const result = await execution.result;

    // Assess
    expect(result.path).toEqual([
      'Init',
      'SelectCandidate',
      'GatesPassed?',
      'RequestApproval',
      'StartMicroLive',
      'RunMicroLive',
      'ConcludeMicroLive',
      'Done',
    ]);
    expect(calls.RecordLeverageDecision?.[0]).toMatchObject({ decision });
    const concluded = calls.ConcludeDay3?.[0] as {
      pipeline: Record<string, unknown>;
      sliceId: string;
    };
    expect(concluded.sliceId).toBe('ml-x');
    expect(concluded.pipeline).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        promotionId: 'pr-x',
        outcome: 'promoted',
        input: { agentId: 'a0001', capitalSliceUsd: 50 },
      },
    });
    expect(result.childExecutions?.RunMicroLive?.executionArn).toMatch(
      /promotion-pipeline:day3-approve$/,
    );
  });

  it('gates failed: no approval is requested, GatesFailed records it', async () => {
    // Prepare
    const machine = await machinePromise;
    gatesPassed = false;

    // Act
    const result = await machine.execute({ source: 'test' });

    // Assess
    expect(result.path).toEqual([
      'Init',
      'SelectCandidate',
      'GatesPassed?',
      'GatesFailed',
      'NotApproved',
    ]);
    expect(calls.RequestApproval).toBeUndefined();
  });

  it('a failing RequestApproval is recorded as workflow_failed before the execution fails', async () => {
    // Prepare
    const machine = await machinePromise;
    requestBehaviour = 'throw';

    // Act
    const result = await machine.execute({ source: 'test' });

    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ValidationError');
    expect(result.path.slice(-2)).toEqual(['RecordFailure', 'Failed']);
    expect(calls.RecordAudit?.[0]).toMatchObject({
      failure: { kind: 'workflow_failed', source: 'day3-go-no-go' },
    });
  });
});

describe('day3-go-no-go.asl.json structure', () => {
  const values = Object.fromEntries(
    PLACEHOLDERS.map((p) => [
      p,
      p.endsWith('StateMachineArn')
        ? pipeline.arn
        : localFunctionArn(p.replace(/FunctionArn$/, '')),
    ]),
  );
  const definition = JSON.parse(substitute(text, values)) as {
    States: Record<string, Record<string, unknown>>;
  };
  const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');

  it('is valid ASL as written (waitForTaskToken and nested execution included)', () => {
    expect(() => new StateMachine(definition as never)).not.toThrow();
  });

  it('uses exactly the Day-3 placeholders', () => {
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual([...PLACEHOLDERS].sort());
  });

  it('waits for a task token with the configured timeout and heartbeat, and catches timeout and rejection', () => {
    const s = definition.States.RequestApproval as Record<string, unknown> & {
      Parameters: { Payload: Record<string, unknown> };
      Catch: { ErrorEquals: string[]; Next: string }[];
    };
    expect(s.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(s.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(s.TimeoutSecondsPath).toBe('$.selection.approval.timeoutSeconds');
    expect(s.HeartbeatSecondsPath).toBe('$.selection.approval.heartbeatSeconds');
    expect(s.Catch.find((c) => c.ErrorEquals.includes('States.Timeout'))?.Next).toBe('TimedOut');
    expect(s.Catch.find((c) => c.ErrorEquals.includes('States.HeartbeatTimeout'))?.Next).toBe(
      'TimedOut',
    );
    expect(s.Catch.find((c) => c.ErrorEquals.includes('ApprovalRejected'))?.Next).toBe('Rejected');
  });

  it('runs the SAME promotion pipeline for the micro-live slice (.sync:2, idempotent name)', () => {
    const s = definition.States.RunMicroLive as {
      Resource: string;
      Parameters: Record<string, unknown>;
    };
    expect(s.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(s.Parameters.StateMachineArn).toBe(pipeline.arn);
    expect(s.Parameters['Name.$']).toBe('$$.Execution.Name');
  });

  it('gives every Lambda task a timeout, a retry on TransientError, and a recorded failure path', () => {
    for (const [name, state] of tasks) {
      const retry = state.Retry as { ErrorEquals: string[] }[] | undefined;
      expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath, name).toBeDefined();
      if (name === 'RunMicroLive') continue;
      expect(
        retry?.some((r) => r.ErrorEquals.includes('TransientError')),
        name,
      ).toBe(true);
      if (name.startsWith('Record')) continue;
      const all = (state.Catch as { ErrorEquals: string[]; Next: string }[] | undefined)?.find(
        (c) => c.ErrorEquals.includes('States.ALL'),
      );
      expect(all?.Next, name).toBe('RecordFailure');
    }
  });
});
