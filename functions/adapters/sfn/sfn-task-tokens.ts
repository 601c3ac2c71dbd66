/**
 * {@link TaskTokenPort} over the Step Functions API (`@aws-sdk/client-sfn`): SendTaskSuccess,
 * SendTaskFailure, SendTaskHeartbeat. IAM: `states:SendTaskSuccess`, `states:SendTaskFailure`,
 * `states:SendTaskHeartbeat` on the waiting state machine (task-token APIs authorize against
 * the state machine ARN).
 *
 * Error mapping: `TaskTimedOut` -> TaskTokenInvalidError(`timed_out`), `TaskDoesNotExist` ->
 * (`does_not_exist`), `InvalidToken` -> (`invalid`), `InvalidOutput` -> ValidationError,
 * throttling / 5xx / network -> TransientError (functions/adapters/aws-errors.ts). The token
 * itself never appears in an error message.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { TaskTokenInvalidError, ValidationError } from '../../core/errors.js';
import type { TaskTokenPort } from '../../ports/task-token.js';
import { rethrowAws } from '../aws-errors.js';
import { checkTaskFailure, taskOutputJson } from './task-token-output.js';

function mapError(err: unknown, what: string): never {
  const name = (err as { name?: string } | null)?.name;
  if (name === 'TaskTimedOut') throw new TaskTokenInvalidError('timed_out', what);
  if (name === 'TaskDoesNotExist') throw new TaskTokenInvalidError('does_not_exist', what);
  if (name === 'InvalidToken') throw new TaskTokenInvalidError('invalid', what);
  if (name === 'InvalidOutput') throw new ValidationError('output', 'refused by Step Functions');
  rethrowAws(err, what);
}

export class SfnTaskTokens implements TaskTokenPort {
  constructor(private readonly sfn: SFNClient) {}

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const json = taskOutputJson(output);
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: json }));
    } catch (err) {
      mapError(err, 'SendTaskSuccess');
    }
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    checkTaskFailure(error, cause);
    try {
      await this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
    } catch (err) {
      mapError(err, 'SendTaskFailure');
    }
  }

  async sendTaskHeartbeat(taskToken: string): Promise<void> {
    try {
      await this.sfn.send(new SendTaskHeartbeatCommand({ taskToken }));
    } catch (err) {
      mapError(err, 'SendTaskHeartbeat');
    }
  }
}
