/**
 * The local runner's Wait states: rewritten (in its private copy of the definition only) into
 * a step that advances the runtime's manual clock by `Seconds` / `SecondsPath`, or to
 * `Timestamp` / `TimestampPath` (never backwards), passing the Wait's input on unchanged. The
 * handlers read the same clock, so they see the waited time without any sleep.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../functions/ports/clock.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
} from '../../../local/asl-runner.js';

const T0 = Date.parse('2013-10-08T13:55:00.000Z');

function machineWith(wait: Record<string, unknown>, clock: ManualClock) {
  const now: LocalFunction = {
    placeholder: 'NowFunctionArn',
    name: 'Now',
    handler: async () => ({ nowIso: new Date(clock.now()).toISOString() }),
  };
  const definition = {
    StartAt: 'Before',
    States: {
      Before: {
        Type: 'Task',
        Resource: localFunctionArn('Now'),
        ResultPath: '$.before',
        Next: 'Hold',
      },
      Hold: { Type: 'Wait', ...wait, Next: 'After' },
      After: { Type: 'Task', Resource: localFunctionArn('Now'), ResultPath: '$.after', End: true },
    },
  };
  return {
    definition,
    machine: LocalStateMachine.fromDefinition('wait', definition, [now], { clock }),
  };
}

describe('local Wait states advance the manual clock', () => {
  it.each([
    ['Seconds', { Seconds: 300 }, {}, '2013-10-08T14:00:00.000Z'],
    ['SecondsPath', { SecondsPath: '$.wait' }, { wait: 90 }, '2013-10-08T13:56:30.000Z'],
    ['Timestamp', { Timestamp: '2013-10-08T14:30:00Z' }, {}, '2013-10-08T14:30:00.000Z'],
    [
      'TimestampPath',
      { TimestampPath: '$.until' },
      { until: '2013-10-08T15:00:00Z' },
      '2013-10-08T15:00:00.000Z',
    ],
    [
      'a Timestamp already past',
      { Timestamp: '2013-10-08T13:00:00Z' },
      {},
      '2013-10-08T13:55:00.000Z',
    ],
  ])('%s: the next step reads the waited time', async (_label, wait, input, expected) => {
    // Prepare
    const clock = new ManualClock(T0);
    const { machine } = machineWith(wait, clock);

    // Act
    const result = await machine.execute(input);

    // Assess: input passed on unchanged, time moved by exactly the Wait
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual(['Before', 'Hold', 'After']);
    expect(result.output).toEqual({
      ...input,
      before: { nowIso: '2013-10-08T13:55:00.000Z' },
      after: { nowIso: expected },
    });
    expect(clock.now()).toBe(Date.parse(expected));
  });

  it('leaves the definition it was given untouched (the file stays the AWS definition)', () => {
    const clock = new ManualClock(T0);
    const { definition } = machineWith({ Seconds: 5 }, clock);
    expect(definition.States.Hold).toEqual({ Type: 'Wait', Seconds: 5, Next: 'After' });
  });
});
