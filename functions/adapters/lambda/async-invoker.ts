/**
 * Invokes a Lambda function: asynchronously (`Invoke` with InvocationType `Event`: Lambda
 * queues the event and answers 202 at once), which the slash-command function uses to hand a
 * long command to a second invocation of itself after acknowledging Slack within 3 seconds
 * (functions/adapters/slack/follow-up.ts); or synchronously, which the Day-3 interactivity
 * function uses to hand a kill-switch click (the signed request as received) to the
 * slash-command function. IAM: `lambda:InvokeFunction` on that function.
 *
 * Errors: throttling / 5xx / network -> TransientError (functions/adapters/aws-errors.ts); a
 * status other than 202 -> TransientError naming the function.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { TransientError } from '../../core/errors.js';
import { rethrowAws } from '../aws-errors.js';

export class LambdaAsyncInvoker {
  constructor(
    private readonly lambda: LambdaClient,
    /** Name or ARN of the function to invoke. */
    private readonly functionName: string,
  ) {}

  /** Queues `event` for the function (at most 256 KB of JSON). */
  async invoke(event: unknown): Promise<void> {
    let status: number | undefined;
    try {
      const out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
      status = out.StatusCode;
    } catch (err) {
      rethrowAws(err, `invoke ${this.functionName} asynchronously`);
    }
    if (status !== 202) {
      throw new TransientError(`invoke ${this.functionName}: status ${status ?? 'none'}, not 202`);
    }
  }

  /**
   * Invokes the function synchronously (`RequestResponse`) with `event` and returns its JSON
   * result. @throws TransientError when the function failed (`FunctionError`) or AWS did.
   */
  async invokeForResult(event: unknown): Promise<unknown> {
    let out: { FunctionError?: string; Payload?: Uint8Array };
    try {
      out = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
    } catch (err) {
      rethrowAws(err, `invoke ${this.functionName}`);
    }
    if (out.FunctionError) {
      throw new TransientError(`invoke ${this.functionName}: ${out.FunctionError}`);
    }
    return JSON.parse(new TextDecoder().decode(out.Payload ?? new Uint8Array()) || 'null');
  }
}
