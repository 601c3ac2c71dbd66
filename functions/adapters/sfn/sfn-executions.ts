/**
 * {@link ExecutionDescriber} over the Step Functions API (`@aws-sdk/client-sfn`
 * DescribeExecution). IAM: `states:DescribeExecution` on the executions of the state machine
 * it reads (`execution:<state machine name>:*`).
 *
 * Error mapping: `ExecutionDoesNotExist` -> NotFoundError, throttling / 5xx / network ->
 * TransientError (functions/adapters/aws-errors.ts), a status this client does not know ->
 * ValidationError; the rest propagate. An output that is not
 * JSON, or was not included (over 256 KiB), is null.
 */
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import {
  EXECUTION_STATUSES,
  type ExecutionDescriber,
  type ExecutionDescription,
  type ExecutionStatus,
} from '../../ports/executions.js';
import { rethrowAws } from '../aws-errors.js';

/** Parsed JSON of `text`, or null when it is absent or not JSON. */
export function parseExecutionOutput(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export class SfnExecutions implements ExecutionDescriber {
  constructor(private readonly sfn: SFNClient) {}

  async describeExecution(executionArn: string): Promise<ExecutionDescription> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (!(EXECUTION_STATUSES as readonly string[]).includes(out.status ?? '')) {
        throw new ValidationError('DescribeExecution.status', `unknown status ${out.status}`);
      }
      const status = out.status as ExecutionStatus;
      return {
        executionArn,
        status,
        output: status === 'SUCCEEDED' ? parseExecutionOutput(out.output) : null,
        error: out.error ?? null,
        cause: out.cause ?? null,
        stopDateIso: out.stopDate ? out.stopDate.toISOString() : null,
      };
    } catch (err) {
      if ((err as { name?: string } | null)?.name === 'ExecutionDoesNotExist') {
        throw new NotFoundError('execution', executionArn);
      }
      rethrowAws(err, `DescribeExecution ${executionArn}`);
    }
  }
}
