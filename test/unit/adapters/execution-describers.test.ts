/**
 * Both execution describers answer as DescribeExecution does (what a redelivered approval
 * reads when its re-sent resume is refused): the Step Functions adapter maps the API's answer
 * and errors; the local registry follows the executions the local ASL runner starts (RUNNING,
 * then SUCCEEDED with the output, FAILED with error and cause, ABORTED), and an unknown
 * execution is NotFoundError, as `ExecutionDoesNotExist` is.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { SfnExecutions } from '../../../functions/adapters/sfn/sfn-executions.js';
import { NotFoundError, TransientError, ValidationError } from '../../../functions/core/errors.js';
import {
  type LocalFunction,
  LocalStateMachine,
  localFunctionArn,
} from '../../../local/asl-runner.js';
import { localExecutions } from '../../../local/local-executions.js';

const ARN = 'arn:aws:states:us-east-1:123456789012:execution:day3-go-no-go:day3-2013-10-09';

const answering = (answer: () => unknown) =>
  ({ send: async () => answer() }) as unknown as SFNClient;

describe('SfnExecutions', () => {
  it("maps a SUCCEEDED execution's status, parsed output and stop date", async () => {
    // Prepare
    const sfn = answering(() => ({
      executionArn: ARN,
      status: 'SUCCEEDED',
      output: '{"outcome":"micro_live_started","decision":"approved"}',
      stopDate: new Date('2013-10-10T15:00:00Z'),
    }));

    // Act
    const out = await new SfnExecutions(sfn).describeExecution(ARN);

    // Assess
    expect(out).toEqual({
      executionArn: ARN,
      status: 'SUCCEEDED',
      output: { outcome: 'micro_live_started', decision: 'approved' },
      error: null,
      cause: null,
      stopDateIso: '2013-10-10T15:00:00.000Z',
    });
  });

  it('maps a FAILED one with its error and cause, and no output', async () => {
    const sfn = answering(() => ({ status: 'FAILED', error: 'States.TaskFailed', cause: 'x' }));
    await expect(new SfnExecutions(sfn).describeExecution(ARN)).resolves.toMatchObject({
      status: 'FAILED',
      output: null,
      error: 'States.TaskFailed',
      cause: 'x',
      stopDateIso: null,
    });
  });

  it('maps ExecutionDoesNotExist to NotFoundError, throttling to TransientError, an unknown status to ValidationError', async () => {
    const fails = (name: string, status?: number) =>
      answering(() => {
        throw Object.assign(new Error(name), {
          name,
          $metadata: { httpStatusCode: status ?? 400 },
        });
      });
    await expect(
      new SfnExecutions(fails('ExecutionDoesNotExist')).describeExecution(ARN),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      new SfnExecutions(fails('ThrottlingException')).describeExecution(ARN),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(
      new SfnExecutions(answering(() => ({ status: 'SOMETHING_NEW' }))).describeExecution(ARN),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

/** A one-task machine whose task waits for `release` and then returns or throws. */
function gatedMachine(name: string) {
  let release: (outcome: 'ok' | 'fail') => void = () => undefined;
  const gate = new Promise<'ok' | 'fail'>((resolve) => {
    release = resolve;
  });
  const fn: LocalFunction = {
    placeholder: 'StepFunctionArn',
    name: 'Step',
    handler: async () => {
      if ((await gate) === 'fail') {
        throw Object.assign(new Error('the step broke'), { name: 'StepError' });
      }
      return { outcome: 'micro_live_started', decision: 'approved' };
    },
  };
  const machine = LocalStateMachine.fromDefinition(
    name,
    {
      StartAt: 'Step',
      States: { Step: { Type: 'Task', Resource: localFunctionArn('Step'), End: true } },
    },
    [fn],
  );
  return { machine, release: (o: 'ok' | 'fail') => release(o) };
}

describe('the local execution registry (local/local-executions.ts)', () => {
  it('RUNNING while the execution runs, then SUCCEEDED with its output', async () => {
    // Prepare
    const { machine, release } = gatedMachine('describe-ok');
    const execution = machine.start({}, { executionName: 'describe-ok-1' });

    // Act
    const running = await localExecutions.describeExecution(execution.executionArn);
    release('ok');
    await execution.result;
    const ended = await localExecutions.describeExecution(execution.executionArn);

    // Assess
    expect(running).toMatchObject({ status: 'RUNNING', output: null, stopDateIso: null });
    expect(ended).toMatchObject({
      status: 'SUCCEEDED',
      output: { outcome: 'micro_live_started', decision: 'approved' },
      error: null,
    });
    expect(ended.stopDateIso).toEqual(expect.any(String));
  });

  it('FAILED with the error and cause, ABORTED when aborted', async () => {
    // Prepare
    const failing = gatedMachine('describe-fail');
    const aborted = gatedMachine('describe-abort');
    const a = failing.machine.start({}, { executionName: 'describe-fail-1' });
    const b = aborted.machine.start({}, { executionName: 'describe-abort-1' });

    // Act
    failing.release('fail');
    b.abort();
    await Promise.all([a.result, b.result]);

    // Assess
    await expect(localExecutions.describeExecution(a.executionArn)).resolves.toMatchObject({
      status: 'FAILED',
      error: 'StepError',
      cause: 'the step broke',
    });
    await expect(localExecutions.describeExecution(b.executionArn)).resolves.toMatchObject({
      status: 'ABORTED',
    });
    aborted.release('ok');
  });

  it('an execution it never started is NotFoundError', async () => {
    await expect(localExecutions.describeExecution(`${ARN}-never`)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
