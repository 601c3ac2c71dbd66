/**
 * The crash sweeper: finds workflow runs (promotions, paper sessions) left mid-flight by a
 * crash (SIGKILL, a lost Lambda, a timed-out execution) and hands each to its workflow's
 * {@link InFlightWorkflow.recover}, which reconciles it against the broker by client_order_id
 * and closes it. Scheduled in AWS (lib/constructs/in-flight-recovery.ts); run at start-up by
 * the local runtime, which holds the state folder's lock, so nothing else is in flight there.
 */
import type { Clock } from '../../ports/clock.js';
import type { InFlightRecovery, InFlightWorkflow } from '../../ports/in-flight.js';

export interface SweepDeps {
  readonly clock: Clock;
  readonly workflows: readonly InFlightWorkflow[];
}

/**
 * Which runs count as abandoned: `all` non-terminal runs (a runtime that holds the only
 * writer's lock, e.g. the local runtime at start-up), or those that started at least
 * `staleAfterSeconds` ago and at most `lookbackSeconds` ago (AWS, where executions may still
 * be running: the threshold must exceed the longest run).
 */
export type SweepOptions =
  | { readonly mode: 'all' }
  | {
      readonly mode: 'stale';
      /** Seconds; > 0. */
      readonly staleAfterSeconds: number;
      /** Seconds; > staleAfterSeconds. */
      readonly lookbackSeconds: number;
    };

/** The end of year 9999 UTC, epoch ms: the latest instant with a four-digit ISO-8601 year. */
const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export interface SweepResult {
  readonly recovered: readonly InFlightRecovery[];
  /** Runs whose recovery failed this time (the next sweep retries them). */
  readonly failed: readonly { workflow: string; id: string; error: string }[];
}

/**
 * Sweeps every workflow once. One run failing to recover does not stop the others.
 */
export async function sweepInFlight(deps: SweepDeps, options: SweepOptions): Promise<SweepResult> {
  const now = deps.clock.now();
  const [from, to] =
    options.mode === 'all'
      ? [0, MAX_DATE_MS]
      : [now - options.lookbackSeconds * 1000, now - options.staleAfterSeconds * 1000];
  const recovered: InFlightRecovery[] = [];
  const failed: { workflow: string; id: string; error: string }[] = [];
  for (const wf of deps.workflows) {
    for (const id of await wf.listInFlight(from, to)) {
      try {
        recovered.push(await wf.recover(id, deps.clock.now()));
      } catch (err) {
        failed.push({
          workflow: wf.workflow,
          id,
          error: `${(err as Error).name}: ${(err as Error).message}`,
        });
      }
    }
  }
  return { recovered, failed };
}
