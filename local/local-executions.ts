/**
 * {@link ExecutionDescriber} of the local mode: an in-process registry of the executions the
 * local ASL runner (`local/asl-runner.ts`) started, answering as DescribeExecution does:
 * `RUNNING` until the execution ends, then `SUCCEEDED` with its output, `ABORTED` (aborted),
 * `TIMED_OUT` (the execution's own timeout) or `FAILED` with its error and cause. An execution
 * it never started (or forgot: the oldest of more than 1,000 ended ones) is NotFoundError,
 * as DescribeExecution answers `ExecutionDoesNotExist`.
 */
import { NotFoundError } from '../functions/core/errors.js';
import type { ExecutionDescriber, ExecutionDescription } from '../functions/ports/executions.js';

/** What the runner reports when an execution ends (its `LocalExecutionResult`'s fields). */
export interface LocalExecutionEnd {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/** Ended executions kept (oldest forgotten first); running ones are always kept. */
const ENDED_MEMORY = 1000;

export class LocalExecutionRegistry implements ExecutionDescriber {
  private readonly executions = new Map<string, ExecutionDescription>();
  private readonly ended: string[] = [];

  /** Records that `executionArn` started (status RUNNING). */
  started(executionArn: string): void {
    const i = this.ended.indexOf(executionArn);
    if (i >= 0) this.ended.splice(i, 1);
    this.executions.set(executionArn, {
      executionArn,
      status: 'RUNNING',
      output: null,
      error: null,
      cause: null,
      stopDateIso: null,
    });
  }

  /** Records how `executionArn` ended, at `atMs` (epoch ms UTC). */
  end(executionArn: string, result: LocalExecutionEnd, atMs: number): void {
    const failed = result.status === 'FAILED';
    const status = !failed
      ? 'SUCCEEDED'
      : result.error === 'ExecutionAborted'
        ? 'ABORTED'
        : result.error === 'States.Timeout' && result.cause === 'execution timed out'
          ? 'TIMED_OUT'
          : 'FAILED';
    this.executions.set(executionArn, {
      executionArn,
      status,
      output: failed ? null : structuredClone(result.output ?? null),
      error: failed ? (result.error ?? 'States.Runtime') : null,
      cause: failed ? (result.cause ?? null) : null,
      stopDateIso: new Date(atMs).toISOString(),
    });
    this.ended.push(executionArn);
    if (this.ended.length > ENDED_MEMORY) this.executions.delete(this.ended.shift() as string);
  }

  async describeExecution(executionArn: string): Promise<ExecutionDescription> {
    const found = this.executions.get(executionArn);
    if (!found) throw new NotFoundError('execution', executionArn);
    return structuredClone(found);
  }
}

/** The process-wide registry the local runner and the local composition share. */
export const localExecutions = new LocalExecutionRegistry();
