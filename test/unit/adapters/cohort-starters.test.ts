/**
 * Both cohort starters are idempotent per execution name, as Step Functions StartExecution is
 * (a start under an existing name runs nothing): what makes a redelivered `cohort start`, whose
 * name derives from its trigger or Idempotency-Key, start at most one execution.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  executionArnOf,
  SfnCohortStarter,
} from '../../../functions/adapters/sfn/sfn-cohort-starter.js';
import { localCohortStarter } from '../../../local/local-cohort-starter.js';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:intraday-cohort';

describe('SfnCohortStarter', () => {
  it('answers ALREADY_STARTED with the execution ARN when the name is taken (ExecutionAlreadyExists)', async () => {
    // Prepare: Step Functions refuses the name (closed execution, or another input)
    const sent: unknown[] = [];
    const sfn = {
      send: async (command: { input: unknown }) => {
        sent.push(command.input);
        throw Object.assign(new Error('Execution Already Exists'), {
          name: 'ExecutionAlreadyExists',
        });
      },
    } as unknown as SFNClient;

    // Act
    const out = await new SfnCohortStarter(sfn, MACHINE).start({ partial: true }, 'partial-x');

    // Assess
    expect(out).toEqual({
      executionId: 'arn:aws:states:us-east-1:123456789012:execution:intraday-cohort:partial-x',
      status: 'ALREADY_STARTED',
    });
    expect(sent).toEqual([
      { stateMachineArn: MACHINE, name: 'partial-x', input: '{"partial":true}' },
    ]);
  });

  it('control: any other refusal is not taken for a start', async () => {
    const sfn = {
      send: async () => {
        throw Object.assign(new Error('no such machine'), { name: 'StateMachineDoesNotExist' });
      },
    } as unknown as SFNClient;
    await expect(new SfnCohortStarter(sfn, MACHINE).start({}, 'partial-y')).rejects.toThrow(
      /no such machine/,
    );
  });

  it('names an execution ARN after its state machine', () => {
    expect(executionArnOf(MACHINE, 'n1')).toBe(
      'arn:aws:states:us-east-1:123456789012:execution:intraday-cohort:n1',
    );
  });
});

describe('localCohortStarter', () => {
  it('runs one execution per name: a repeat gets the first run result; control: another name runs again', async () => {
    // Prepare
    const runs: string[] = [];
    const starter = localCohortStarter({
      execute: async (_input: unknown, options?: { executionName?: string }) => {
        runs.push(options?.executionName ?? '');
        return { status: 'SUCCEEDED' } as never;
      },
    });

    // Act
    const [a, b] = await Promise.all([
      starter.start({ partial: true }, 'partial-console-k1'),
      starter.start({ partial: true }, 'partial-console-k1'),
    ]);
    await starter.start({ partial: true }, 'partial-console-k2');

    // Assess
    expect(a).toEqual(b);
    expect(runs).toEqual(['partial-console-k1', 'partial-console-k2']);
  });
});
