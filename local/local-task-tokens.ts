/**
 * {@link TaskTokenPort} of the local mode: an in-process registry of the `.waitForTaskToken`
 * tasks the local ASL runner (`local/asl-runner.ts`) is waiting on. The runner registers a
 * fresh token before it invokes the task's Lambda handler and waits for this registry to
 * settle it; the approval handlers (running in the same process) settle it through the same
 * port the AWS adapter implements. The local composition root (`local/composition.ts`) hands
 * it to them.
 *
 * Semantics follow Step Functions: a token resumes its task once; after that, or after the
 * task timed out or its execution was aborted, every call throws TaskTokenInvalidError
 * (`does_not_exist` / `timed_out`); an unknown string is `invalid`. Outputs are JSON
 * round-tripped and size-checked like the API does.
 */

import { checkTaskFailure, taskOutputJson } from '../functions/adapters/sfn/task-token-output.js';
import { TaskTokenInvalidError } from '../functions/core/errors.js';
import type { TaskTokenPort } from '../functions/ports/task-token.js';

/** A task waiting for its token. */
export interface WaitingTask {
  readonly taskToken: string;
  /** ARN of the execution the task belongs to. */
  readonly executionArn: string;
  readonly stateName: string;
  /** When the runner registered it, epoch ms UTC (wall clock). */
  readonly registeredAtMs: number;
}

/** The error a SendTaskFailure settles a local task with: `name` is what Catch matches. */
export class LocalTaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface Entry {
  readonly task: WaitingTask;
  readonly resolve: (output: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly onHeartbeat: () => void;
}

/** Tokens that ended, with why (bounded, oldest forgotten first). */
const ENDED_MEMORY = 1000;

export class LocalTaskTokenRegistry implements TaskTokenPort {
  private readonly waiting = new Map<string, Entry>();
  private readonly ended = new Map<string, 'timed_out' | 'does_not_exist'>();
  private readonly listeners = new Set<(task: WaitingTask) => void>();

  /**
   * Registers a waiting task. The promise resolves with the output of `sendTaskSuccess`, or
   * rejects with a {@link LocalTaskFailure} named after `sendTaskFailure`'s error.
   *
   * @param onHeartbeat called on every `sendTaskHeartbeat` (the runner resets its timer).
   */
  register(task: WaitingTask, onHeartbeat: () => void = () => undefined): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(task.taskToken, { task, resolve, reject, onHeartbeat });
      for (const listener of this.listeners) listener(task);
    });
  }

  /** Forgets a waiting task (timed out, aborted, finished): later calls are refused. */
  end(taskToken: string, reason: 'timed_out' | 'does_not_exist'): void {
    this.waiting.delete(taskToken);
    this.ended.set(taskToken, reason);
    if (this.ended.size > ENDED_MEMORY) {
      const oldest = this.ended.keys().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }

  /** Tasks currently waiting, optionally of one execution. */
  waitingTasks(executionArn?: string): WaitingTask[] {
    return [...this.waiting.values()]
      .map((e) => e.task)
      .filter((t) => executionArn === undefined || t.executionArn === executionArn);
  }

  /** Calls `listener` for every task registered from now on; returns the unsubscribe. */
  onWaiting(listener: (task: WaitingTask) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    const json = taskOutputJson(output);
    const entry = this.take(taskToken);
    entry.resolve(JSON.parse(json) as unknown);
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    checkTaskFailure(error, cause);
    const entry = this.take(taskToken);
    entry.reject(new LocalTaskFailure(error, cause));
  }

  async sendTaskHeartbeat(taskToken: string): Promise<void> {
    this.lookup(taskToken).onHeartbeat();
  }

  private lookup(taskToken: string): Entry {
    const entry = this.waiting.get(taskToken);
    if (entry) return entry;
    const reason = this.ended.get(taskToken);
    throw new TaskTokenInvalidError(reason ?? 'invalid', 'local');
  }

  private take(taskToken: string): Entry {
    const entry = this.lookup(taskToken);
    this.end(taskToken, 'does_not_exist');
    return entry;
  }
}

/** The process-wide registry the local runner and the local composition share. */
export const localTaskTokens = new LocalTaskTokenRegistry();
