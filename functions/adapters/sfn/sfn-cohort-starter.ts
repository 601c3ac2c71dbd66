/**
 * {@link CohortStarter} over Step Functions `StartExecution` on the intraday-cohort state
 * machine (`statemachines/intraday-cohort.asl.json`). Does not wait: answers `RUNNING` with the
 * execution ARN. IAM: `states:StartExecution` on that state machine.
 *
 * Idempotent per execution name (Step Functions: a StartExecution with the name and input of
 * an open execution succeeds with that execution; with the name of a closed execution, or of
 * an open one with another input, it fails `ExecutionAlreadyExists`, mapped here to
 * `ALREADY_STARTED` with the execution's ARN: nothing new runs).
 *
 * Errors: throttling / 5xx / network -> TransientError (functions/adapters/aws-errors.ts);
 * the rest are rethrown as they are.
 */
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { CohortStarter, CohortStartResult } from '../../ports/cohort-starter.js';
import { rethrowAws } from '../aws-errors.js';

export class SfnCohortStarter implements CohortStarter {
  constructor(
    private readonly sfn: SFNClient,
    /** ARN of the intraday-cohort state machine. */
    private readonly stateMachineArn: string,
  ) {}

  async start(
    request: Readonly<Record<string, unknown>>,
    executionName: string,
  ): Promise<CohortStartResult> {
    try {
      const out = await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName,
          input: JSON.stringify(request),
        }),
      );
      return { executionId: out.executionArn ?? executionName, status: 'RUNNING' };
    } catch (err) {
      if ((err as { name?: string } | null)?.name === 'ExecutionAlreadyExists') {
        return {
          executionId: executionArnOf(this.stateMachineArn, executionName),
          status: 'ALREADY_STARTED',
        };
      }
      rethrowAws(err, `start cohort execution ${executionName}`);
    }
  }
}

/**
 * The ARN of execution `name` of a state machine:
 * `arn:<partition>:states:<region>:<account>:execution:<machine>:<name>`.
 */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
