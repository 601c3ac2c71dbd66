/**
 * The console API names each cohort's and promotion's market (`crypto` or `equity-usa`), so
 * the pages show its times in that market's zone (UTC for crypto, New York for equities); a
 * record stored before records named their market is `equity-usa`. Paper sessions read the
 * market their `session_started` decision recorded.
 */
import { describe, expect, it } from 'vitest';
import type { CohortSummary } from '../../../functions/core/use-cases/cohort-records.js';
import { ConsoleApi, type ConsoleApiDeps } from '../../../functions/core/use-cases/console-api.js';
import {
  type AuditRow,
  paperSessionOf,
} from '../../../functions/core/use-cases/console-trading.js';
import type { StagedPromotion } from '../../../functions/core/use-cases/promotion-records.js';
import { ManualClock } from '../../../functions/ports/clock.js';

const summary = (cohortId: string, market?: 'crypto'): CohortSummary => ({
  cohortId,
  sessionDate: '2018-04-04',
  completedAtIso: '2018-04-05T00:10:00.000Z',
  symbols: market ? ['BTCUSD'] : ['SPY'],
  bankrollUsd: 1000,
  agentCount: 12,
  ...(market ? { market } : {}),
  totalPnlUsd: 0,
  bestAgentId: null,
});

const staged = (promotionId: string, market?: 'crypto') =>
  ({ promotionId, ...(market ? { market } : {}) }) as unknown as StagedPromotion;

function api(): ConsoleApi {
  const deps = {
    readModel: {
      listCohorts: async () => ({
        items: [summary('c-crypto', 'crypto'), summary('c-old')],
        next: null,
      }),
      listPromotions: async () => ({
        items: [staged('pr-crypto', 'crypto'), staged('pr-old')],
        next: null,
      }),
    },
    clock: new ManualClock(Date.parse('2018-04-05T12:00:00Z')),
  } as unknown as ConsoleApiDeps;
  return new ConsoleApi(deps);
}

async function get(path: string): Promise<{ items: { market: string }[] }> {
  const res = await api().handle({
    method: 'GET',
    path,
    query: {},
    headers: {},
    body: '',
    identity: 'local:vera',
    roles: ['viewer'],
  });
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as { items: { market: string }[] };
}

describe('console API: each item names its market', () => {
  it('lists cohorts and promotions with their market, equity-usa for records without one', async () => {
    // Act
    const cohorts = await get('/api/cohorts');
    const promotions = await get('/api/promotions');

    // Assess
    expect(cohorts.items.map((c) => c.market)).toEqual(['crypto', 'equity-usa']);
    expect(promotions.items.map((p) => p.market)).toEqual(['crypto', 'equity-usa']);
  });

  it("reads a paper session's market from its session_started decision", () => {
    // Prepare
    const started = (promotionId: string, market?: string): AuditRow =>
      ({
        id: `a-${promotionId}`,
        ts: '2018-04-05T00:30:00.000Z',
        seq: 1,
        kind: 'paper_decision',
        subject: { promotion_id: promotionId },
        payload: {
          action: 'session_started',
          symbol: 'BTCUSD',
          ...(market ? { market } : {}),
          date: '2018-04-05',
          close_iso: '2018-04-06T00:00:00.000Z',
        },
      }) as unknown as AuditRow;

    // Act
    const crypto = paperSessionOf('pr-1', [started('pr-1', 'crypto')]);
    const old = paperSessionOf('pr-2', [started('pr-2')]);

    // Assess
    expect(crypto?.market).toBe('crypto');
    expect(old?.market).toBe('equity-usa');
  });
});
