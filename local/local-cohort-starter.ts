/**
 * {@link CohortStarter} of the local mode: runs the intraday-cohort ASL in process (the same
 * definition and handlers as in AWS) and waits for its end, so the console answers with the
 * stored cohort (or the workflow's error) instead of `RUNNING`.
 */
import type { CohortStarter, CohortStartResult } from '../functions/ports/cohort-starter.js';
import type { LocalStateMachine } from './asl-runner.js';

export function localCohortStarter(machine: Pick<LocalStateMachine, 'execute'>): CohortStarter {
  return {
    async start(request, executionName): Promise<CohortStartResult> {
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
    },
  };
}
