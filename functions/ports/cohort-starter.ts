/**
 * Starts an execution of the intraday-cohort workflow (`statemachines/intraday-cohort.asl.json`)
 * on demand: Step Functions `StartExecution` in AWS
 * (`functions/adapters/sfn/sfn-cohort-starter.ts`), the local ASL runner locally.
 *
 * Errors: `TransientError` for retryable faults of the workflow service; anything else is a
 * programming or deployment error.
 */
export interface CohortStarter {
  /**
   * Starts the workflow with `request` (a `CohortRequest`, validated again by its prepare
   * step) under the execution name `executionName` (1..80 characters of `[A-Za-z0-9-_]`).
   * Idempotent per name, as Step Functions StartExecution is: a start under a name that
   * already has an execution starts nothing (`ALREADY_STARTED`, or, in AWS, the open
   * execution's `RUNNING` when the input is the same), so a redelivered command derives its
   * name from its natural key (e.g. Slack's trigger_id) and starts at most one execution.
   *
   * @returns the execution id (ARN in AWS) and, when the starter waited for the end (locally),
   *   the final status and, on failure, the error name and cause.
   */
  start(
    request: Readonly<Record<string, unknown>>,
    executionName: string,
  ): Promise<CohortStartResult>;
}

/**
 * What a start returned. `RUNNING` when the starter does not wait (AWS); `ALREADY_STARTED`
 * when an execution of that name existed (an earlier delivery of the same command started it;
 * AWS: StartExecution's `ExecutionAlreadyExists`, the execution ended or had another input).
 */
export interface CohortStartResult {
  readonly executionId: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ALREADY_STARTED';
  readonly error?: string;
  readonly cause?: string;
}
