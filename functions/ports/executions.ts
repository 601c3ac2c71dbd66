/**
 * Reading a Step Functions execution's state (the Day-3 go/no-go's): what a redelivered
 * approval answers from when Step Functions refuses its re-sent resume. In AWS the adapter
 * calls DescribeExecution (`functions/adapters/sfn/sfn-executions.ts`); in local mode the
 * local ASL runner keeps an in-process registry of its executions (`local/local-executions.ts`).
 */

/** Step Functions execution statuses (DescribeExecution `status`). */
export const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** What DescribeExecution says about one execution. */
export interface ExecutionDescription {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** The execution's output, parsed JSON, when it SUCCEEDED and the output was included; else null. */
  readonly output: unknown;
  /** The error name and cause of an execution that did not succeed; null otherwise. */
  readonly error: string | null;
  readonly cause: string | null;
  /** When it ended, UTC ISO-8601; null while it runs. */
  readonly stopDateIso: string | null;
}

export interface ExecutionDescriber {
  /**
   * The current state of `executionArn`.
   *
   * @throws NotFoundError when no such execution exists (or it is past its retention).
   * @throws TransientError on throttling, 5xx or network faults; other errors (access denied)
   *   propagate as they are.
   */
  describeExecution(executionArn: string): Promise<ExecutionDescription>;
}
