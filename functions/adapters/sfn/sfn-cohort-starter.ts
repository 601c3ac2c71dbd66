/**
 * {@link CohortStarter} over Step Functions `StartExecution` on the intraday-cohort state
 * machine (`statemachines/intraday-cohort.asl.json`). Does not wait: answers `RUNNING` with the
 * execution ARN. IAM: `states:StartExecution` on that state machine.
 *
 * Errors: throttling / 5xx / network -> TransientError (functions/adapters/aws-errors.ts);
 * `ExecutionAlreadyExists` (a reused name) and the rest are rethrown as they are.
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
      rethrowAws(err, `start cohort execution ${executionName}`);
    }
  }
}
