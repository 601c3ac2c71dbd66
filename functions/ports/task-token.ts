/**
 * Resuming a Step Functions execution that waits on a `.waitForTaskToken` task (the Day-3
 * approval). In AWS the adapter calls SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat
 * (`functions/adapters/sfn/sfn-task-tokens.ts`); in local mode the local ASL runner keeps an
 * in-process registry of waiting tokens (`functions/adapters/sfn/local-task-tokens.ts`).
 *
 * A task token is a secret capability: it never appears in links, messages, logs or audit
 * payloads (it stays encrypted in the approval store until a decision is claimed).
 */
export interface TaskTokenPort {
  /**
   * Resumes the waiting task with `output` as its result (JSON-serialisable, at most 256 KiB
   * of JSON, the Step Functions payload limit).
   *
   * @throws TaskTokenInvalidError when the task timed out, the execution ended, the token was
   *   already used or is not a token.
   * @throws ValidationError when `output` is not JSON or too large.
   * @throws TransientError on throttling, 5xx or network faults (safe to retry).
   */
  sendTaskSuccess(taskToken: string, output: unknown): Promise<void>;

  /**
   * Fails the waiting task with the error name `error` (what the state's Catch matches, e.g.
   * `ApprovalRejected`) and a human `cause` (at most 32,768 characters).
   *
   * @throws TaskTokenInvalidError, TransientError as {@link sendTaskSuccess}.
   */
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;

  /**
   * Tells the waiting task its worker is alive (resets the state's HeartbeatSeconds timer).
   *
   * @throws TaskTokenInvalidError, TransientError as {@link sendTaskSuccess}.
   */
  sendTaskHeartbeat(taskToken: string): Promise<void>;
}

/** Largest task output Step Functions accepts, UTF-8 bytes of JSON (256 KiB). */
export const MAX_TASK_OUTPUT_BYTES = 256 * 1024;
/** Largest SendTaskFailure `cause`, characters. */
export const MAX_TASK_CAUSE_CHARS = 32_768;
/** Largest SendTaskFailure `error`, characters. */
export const MAX_TASK_ERROR_CHARS = 256;
