/**
 * The local ASL runner's `.waitForTaskToken` and `startExecution.sync:2` support: the token
 * replaces `$$.Task.Token` in the payload, the task resumes through the in-process
 * task-token registry (success, failure, heartbeat), times out as `States.Timeout` /
 * `States.HeartbeatTimeout` (Catch-able), aborts cleanly, and a nested execution returns what
 * AWS returns.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskTokenInvalidError } from '../../../functions/core/errors.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
} from '../../../local/asl-runner.js';
import { localTaskTokens } from '../../../local/local-task-tokens.js';

const seen: Record<string, unknown>[] = [];
const ask: LocalFunction = {
  placeholder: 'AskFunctionArn',
  name: 'Ask',
  handler: async (event) => {
    seen.push(event as Record<string, unknown>);
    return { ignored: true };
  },
};

const definition = {
  StartAt: 'Ask',
  States: {
    Ask: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: localFunctionArn('Ask'),
        Payload: {
          'token.$': '$$.Task.Token',
          'who.$': '$.who',
          nested: { 'again.$': '$$.Task.Token' },
        },
      },
      TimeoutSecondsPath: '$.timeout',
      HeartbeatSecondsPath: '$.heartbeat',
      ResultPath: '$.answer',
      Catch: [
        { ErrorEquals: ['Rejected'], ResultPath: '$.error', Next: 'WasRejected' },
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'WasTimedOut' },
        { ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'NoHeartbeat' },
      ],
      Next: 'Answered',
    },
    Answered: { Type: 'Succeed' },
    WasRejected: { Type: 'Succeed' },
    WasTimedOut: { Type: 'Succeed' },
    NoHeartbeat: { Type: 'Succeed' },
  },
};

const machine = LocalStateMachine.fromDefinition('ask', definition, [ask]);

/** Resolves with the task token once the execution's task is waiting. */
async function waitingToken(executionArn: string): Promise<string> {
  for (;;) {
    const task = localTaskTokens.waitingTasks(executionArn)[0];
    if (task) return task.taskToken;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * {@link waitingToken} under fake timers: lets the execution reach its task by advancing fake
 * time 1 ms at a time (deadlines are seconds away), so no real timer races the test.
 */
async function waitingTokenFake(executionArn: string): Promise<string> {
  for (;;) {
    const task = localTaskTokens.waitingTasks(executionArn)[0];
    if (task) return task.taskToken;
    await vi.advanceTimersByTimeAsync(1);
  }
}

afterEach(() => {
  seen.length = 0;
  vi.useRealTimers();
});

describe('waitForTaskToken locally', () => {
  it('puts a fresh token where $$.Task.Token was and resumes with SendTaskSuccess output', async () => {
    // Prepare
    const execution = machine.start({ who: 'alice', timeout: 60, heartbeat: 60 });
    const token = await waitingToken(execution.executionArn);

    // Act
    await localTaskTokens.sendTaskSuccess(token, { approved: true });
    const result = await execution.result;

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual(['Ask', 'Answered']);
    expect(result.output).toMatchObject({ answer: { approved: true } });
    expect(seen[0]).toEqual({ token, who: 'alice', nested: { again: token } });
    expect(localTaskTokens.waitingTasks(execution.executionArn)).toEqual([]);
  });

  it('fails the task with the SendTaskFailure error name, which Catch matches', async () => {
    // Prepare
    const execution = machine.start({ who: 'bob', timeout: 60, heartbeat: 60 });
    const token = await waitingToken(execution.executionArn);

    // Act
    await localTaskTokens.sendTaskFailure(token, 'Rejected', 'rejected by bob');
    const result = await execution.result;

    // Assess
    expect(result.path).toEqual(['Ask', 'WasRejected']);
    expect(result.output).toMatchObject({ error: { Error: 'Rejected', Cause: 'rejected by bob' } });
  });

  it('refuses a token used twice, like Step Functions (TaskDoesNotExist)', async () => {
    // Prepare
    const execution = machine.start({ who: 'carol', timeout: 60, heartbeat: 60 });
    const token = await waitingToken(execution.executionArn);
    await localTaskTokens.sendTaskSuccess(token, {});
    await execution.result;

    // Act
    const again = localTaskTokens.sendTaskSuccess(token, {});

    // Assess
    await expect(again).rejects.toBeInstanceOf(TaskTokenInvalidError);
    await expect(again).rejects.toMatchObject({ reason: 'does_not_exist' });
  });

  it('times out as States.Timeout (taskTokenTimeoutMs caps the state timeout) and refuses the late token', async () => {
    // Prepare (fake timers: the token is seen before the 50 ms cap however loaded the machine)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const execution = machine.start(
      { who: 'dave', timeout: 14_400, heartbeat: 14_400 },
      { taskTokenTimeoutMs: 50 },
    );
    const token = await waitingTokenFake(execution.executionArn);

    // Act
    await vi.advanceTimersByTimeAsync(50);
    const result = await execution.result;

    // Assess
    expect(result.path).toEqual(['Ask', 'WasTimedOut']);
    expect(result.output).toMatchObject({ error: { Error: 'States.Timeout' } });
    await expect(localTaskTokens.sendTaskSuccess(token, {})).rejects.toMatchObject({
      name: 'TaskTokenInvalidError',
      reason: 'timed_out',
    });
  });

  it('honours TimeoutSecondsPath itself', async () => {
    // Act
    const result = await machine.execute({ who: 'erin', timeout: 1, heartbeat: 1 });

    // Assess
    expect(result.path).toEqual(['Ask', 'WasTimedOut']);
  });

  it('fails with States.HeartbeatTimeout when no heartbeat arrives, and heartbeats keep it alive', async () => {
    // Prepare: heartbeat 1 s, timeout 60 s; fake timers, so a loaded machine cannot delay a
    // beat past the heartbeat deadline
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const silent = machine.start({ who: 'frank', timeout: 60, heartbeat: 1 });
    const alive = machine.start({ who: 'grace', timeout: 60, heartbeat: 1 });
    const token = await waitingTokenFake(alive.executionArn);
    await waitingTokenFake(silent.executionArn);

    // Act: beat every 300 ms for 1.5 s, then answer
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(300);
      await localTaskTokens.sendTaskHeartbeat(token);
    }
    await localTaskTokens.sendTaskSuccess(token, { late: 'but alive' });
    await vi.advanceTimersByTimeAsync(1);
    const [silentResult, aliveResult] = await Promise.all([silent.result, alive.result]);

    // Assess
    expect(silentResult.path).toEqual(['Ask', 'NoHeartbeat']);
    expect(aliveResult.path).toEqual(['Ask', 'Answered']);
  });

  it('aborts a waiting execution: FAILED ExecutionAborted, the token is no longer waiting', async () => {
    // Prepare
    const execution = machine.start({ who: 'heidi', timeout: 60, heartbeat: 60 });
    const token = await waitingToken(execution.executionArn);

    // Act
    execution.abort();
    const result = await execution.result;

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', error: 'ExecutionAborted' });
    await expect(localTaskTokens.sendTaskSuccess(token, {})).rejects.toBeInstanceOf(
      TaskTokenInvalidError,
    );
  });
});

describe('startExecution.sync:2 locally', () => {
  const child = LocalStateMachine.fromDefinition(
    'child',
    {
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Boom' }],
          Default: 'Echo',
        },
        Echo: { Type: 'Pass', Parameters: { 'got.$': '$.value' }, End: true },
        Boom: { Type: 'Fail', Error: 'ChildBroke', Cause: 'on purpose' },
      },
    },
    [],
  );
  const parent = LocalStateMachine.fromDefinition(
    'parent',
    {
      StartAt: 'Run',
      States: {
        Run: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: { StateMachineArn: child.arn, 'Name.$': '$$.Execution.Name', 'Input.$': '$' },
          ResultSelector: { 'status.$': '$.Status', 'output.$': '$.Output', 'name.$': '$.Name' },
          ResultPath: '$.child',
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'ChildFailed' },
          ],
          End: true,
        },
        ChildFailed: { Type: 'Succeed' },
      },
    },
    [],
    { stateMachines: [child] },
  );

  it('runs the child to its end and returns its parsed output, status and name', async () => {
    // Act
    const result = await parent.execute({ value: 42, fail: false }, { executionName: 'parent-1' });

    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      child: { status: 'SUCCEEDED', output: { got: 42 }, name: 'parent-1' },
    });
    expect(result.childExecutions?.Run?.path).toEqual(['Route', 'Echo']);
  });

  it("fails the task with States.TaskFailed carrying the child's error", async () => {
    // Act
    const result = await parent.execute({ fail: true });

    // Assess
    expect(result.path).toEqual(['Run', 'ChildFailed']);
    const cause = JSON.parse((result.output as { error: { Cause: string } }).error.Cause);
    expect(cause).toMatchObject({ Status: 'FAILED', Error: 'ChildBroke' });
  });
});

describe('LocalStateMachine bindings', () => {
  it('refuses a task resource it cannot run locally', () => {
    // Act
    const build = () =>
      LocalStateMachine.fromDefinition(
        'bad',
        {
          StartAt: 'X',
          States: { X: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } },
        },
        [],
      );

    // Assess
    expect(build).toThrow(/no local handler for resource arn:aws:states:::sqs:sendMessage/);
  });
});
