/**
 * {@link CohortStarter} of the local mode: runs the intraday-cohort ASL in process (the same
 * definition and handlers as in AWS) and waits for its end, so the console answers with the
 * stored cohort (or the workflow's error) instead of `RUNNING`.
 */
import type { CohortStarter, CohortStartResult } from '../functions/ports/cohort-starter.js';
import type { LocalStateMachine } from './asl-runner.js';

/** Execution names a local starter remembers (oldest forgotten first). */
const STARTED_MEMORY = 1000;

/**
 * The local starter; idempotent per execution name like StartExecution: a start under a name
 * this process already started gets that execution's result and runs nothing.
 */
export function localCohortStarter(machine: Pick<LocalStateMachine, 'execute'>): CohortStarter {
  const started = new Map<string, Promise<CohortStartResult>>();
  return {
    start(request, executionName): Promise<CohortStartResult> {
      const earlier = started.get(executionName);
      if (earlier) return earlier;
      const run = runOnce(machine, request, executionName);
      started.set(executionName, run);
      if (started.size > STARTED_MEMORY) started.delete(started.keys().next().value as string);
      return run;
    },
  };
}

async function runOnce(
  machine: Pick<LocalStateMachine, 'execute'>,
  request: Readonly<Record<string, unknown>>,
  executionName: string,
): Promise<CohortStartResult> {
  const r = await machine.execute(request, { executionName });
  const executionId = `arn:aws:states:local:000000000000:execution:intraday-cohort:${executionName}`;
  return r.status === 'SUCCEEDED'
    ? { executionId, status: 'SUCCEEDED' }
    : {
        executionId,
        status: 'FAILED',
        ...(r.error ? { error: r.error } : {}),
        ...(r.cause ? { cause: r.cause } : {}),
      };
}
