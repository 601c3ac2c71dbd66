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
   * step) under the execution name `executionName` (unique per start, 1..80 characters of
   * `[A-Za-z0-9-_]`).
   *
   * @returns the execution id (ARN in AWS) and, when the starter waited for the end (locally),
   *   the final status and, on failure, the error name and cause.
   */
  start(
    request: Readonly<Record<string, unknown>>,
    executionName: string,
  ): Promise<CohortStartResult>;
}

/** What a start returned. `RUNNING` when the starter does not wait (AWS). */
export interface CohortStartResult {
  readonly executionId: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
  readonly cause?: string;
}
