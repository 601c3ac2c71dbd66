/**
 * The local runner's deadline for in-process Lambda tasks (local/asl-runner.ts): the declared
 * `TimeoutSeconds` times LOCAL_TASK_DEADLINE_FACTOR, at least LOCAL_TASK_MIN_DEADLINE_SECONDS,
 * so a slow machine (two suites on 2 cores) never turns a slow handler into `States.Timeout`,
 * while a hung handler still ends. Fake timers: no wall-clock race.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LOCAL_TASK_MIN_DEADLINE_SECONDS,
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
  localTaskDeadlineSeconds,
} from '../../../local/asl-runner.js';

/** A handler that answers after `ms` of (fake) time, or never. */
function handlerTaking(ms: number | 'never'): LocalFunction {
  return {
    placeholder: 'WorkFunctionArn',
    name: 'Work',
    handler: async () => {
      await new Promise<void>((resolve) => {
        if (ms !== 'never') setTimeout(resolve, ms);
      });
      return { done: true };
    },
  };
}

const definition = {
  StartAt: 'Work',
  States: {
    Work: {
      Type: 'Task',
      Resource: localFunctionArn('Work'),
      TimeoutSeconds: 1,
      ResultPath: '$.work',
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
      End: true,
    },
    TimedOut: { Type: 'Succeed' },
  },
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('deadline of an in-process task', () => {
  it('is the declared timeout x10, at least 600 s, at most the timer limit', () => {
    // Assess
    expect(localTaskDeadlineSeconds(undefined)).toBe(600);
    expect(localTaskDeadlineSeconds(1)).toBe(600);
    expect(localTaskDeadlineSeconds(540)).toBe(5_400);
    expect(localTaskDeadlineSeconds(10 ** 9)).toBe(Math.floor((2 ** 31 - 1) / 1000));
  });

  it('lets a handler run past its declared TimeoutSeconds (a loaded machine is not a timeout)', async () => {
    // Prepare
    const machine = LocalStateMachine.fromDefinition('slow', definition, [handlerTaking(30_000)]);
    // Act
    const running = machine.execute({});
    await vi.advanceTimersByTimeAsync(30_000);
    const result = await running;
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ work: { done: true } });
  });

  it('still ends a hung handler as States.Timeout once the local deadline passes', async () => {
    // Prepare
    const machine = LocalStateMachine.fromDefinition('hung', definition, [handlerTaking('never')]);
    // Act
    const running = machine.execute({});
    await vi.advanceTimersByTimeAsync(LOCAL_TASK_MIN_DEADLINE_SECONDS * 1000);
    const result = await running;
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ error: { Error: 'States.Timeout' } });
  });
});
