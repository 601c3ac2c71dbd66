/**
 * The console API keeps the last cohort records it read: `GET /cohorts/{id}` and an agent
 * drill-down read the leaderboard from DynamoDB (Local) once, not on every request; an unknown
 * cohort is not kept (asked again, it is read again), and the cache holds two cohorts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConsoleApi } from '../../../functions/core/use-cases/console-api.js';
import { localConsoleApi } from '../../../local/console-server.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { runTestCohort } from '../../support/cohort.js';
import { DATA_ROOT } from '../../support/paths.js';

let stack: LocalStack;
const cohortIds: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  for (const sessionDate of ['2013-10-07', '2013-10-08', '2013-10-09']) {
    cohortIds.push(
      await runTestCohort(stack, {
        sessionDate,
        executionName: `it-record-cache-${sessionDate}`,
        symbols: ['SPY', 'BAC'],
        agentCount: 6,
        seed: 3,
      }),
    );
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function get(api: ConsoleApi, path: string) {
  return api.handle({
    method: 'GET',
    path: `/api${path}`,
    query: {},
    headers: {},
    body: '',
    identity: 'local:vera',
    roles: ['viewer'],
  });
}

describe('console API: cohort records read once', () => {
  it('reads a cohort once for its page and its agents; an unknown id every time', async () => {
    const read = vi.spyOn(stack.runtime.cohorts, 'get');
    try {
      const api = localConsoleApi(stack);
      const [first] = cohortIds as [string];
      const page = await get(api, `/cohorts/${first}`);
      expect(page.status).toBe(200);
      const agentId = (JSON.parse(page.body) as { leaderboard: { agentId: string }[] })
        .leaderboard[0]?.agentId;
      expect((await get(api, `/cohorts/${first}`)).status).toBe(200);
      expect((await get(api, `/cohorts/${first}/agents/${agentId}`)).status).toBe(200);
      expect(read.mock.calls.filter(([id]) => id === first)).toHaveLength(1);

      expect((await get(api, '/cohorts/coh-unknown')).status).toBe(404);
      expect((await get(api, '/cohorts/coh-unknown')).status).toBe(404);
      expect(read.mock.calls.filter(([id]) => id === 'coh-unknown')).toHaveLength(2);

      // Two more cohorts push the first out of the cache (two kept): it is read again.
      for (const id of cohortIds.slice(1))
        expect((await get(api, `/cohorts/${id}`)).status).toBe(200);
      expect((await get(api, `/cohorts/${first}`)).status).toBe(200);
      expect(read.mock.calls.filter(([id]) => id === first)).toHaveLength(2);
    } finally {
      read.mockRestore();
    }
  });
});
