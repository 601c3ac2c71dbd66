import { gzipSync } from 'node:zlib';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AGENT_PAGE_FORMAT,
  encodeAgentPage,
  MAX_AGENT_PAGE_JSON_BYTES,
} from '../../../functions/adapters/dynamodb/agent-pages.js';
import {
  AGENT_PAGE_ROWS,
  agentPageSetOf,
  DynamoCohortRepository,
  MAX_PARALLEL_BATCHES,
} from '../../../functions/adapters/dynamodb/cohort-repository.js';
import {
  CohortAlreadyExistsError,
  CohortRecordCorruptError,
  TransientError,
} from '../../../functions/core/errors.js';
import type { AgentRow, CohortRecord } from '../../../functions/core/use-cases/cohort-records.js';
import { fakeDocumentClient } from '../../support/doubles/document-client.js';

const TABLE = 'tbl';

const row = (rank: number): AgentRow => ({
  rank,
  agentId: `a${String(rank).padStart(4, '0')}`,
  genomeId: `g${rank}`,
  family: 'momentum',
  symbol: 'SPY',
  allocationUsd: 1,
  totalPnlUsd: -rank / 100,
  realizedPnlUsd: 0,
  unrealizedPnlUsd: 0,
  feesUsd: 0,
  roi: 0,
  meanHourlyRoi: 0,
  sharpe: 0,
  maxDrawdownFraction: 0,
  bankrollUtilization: 0,
  leverageBreaches: 0,
  exposureBreaches: 0,
  tradeCount: 1,
});

const record = (agents: number): CohortRecord => ({
  cohortId: 'coh-1',
  environment: 'test',
  status: 'complete',
  sessionDate: '2013-10-07',
  executionId: 'exec-1',
  startedAtIso: '2013-10-07T13:35:00.000Z',
  completedAtIso: '2013-10-07T13:36:00.000Z',
  symbols: ['SPY'],
  bankrollUsd: 1000,
  agentCount: agents,
  allocation: 'equal',
  seed: 1,
  barCount: 390,
  genomeGeneration: 0,
  artifacts: { simulationKey: 's', scoreKey: 'k' },
  parent: {
    totalPnlUsd: 0,
    realizedPnlUsd: 0,
    unrealizedPnlUsd: 0,
    feesUsd: 0,
    roi: 0,
    sharpe: 0,
    maxDrawdownFraction: 0,
    meanUtilization: 0,
    peakUtilization: 0,
    hourlyRoi: [],
  },
  leaderboard: Array.from({ length: agents }, (_, i) => row(i + 1)),
});

type Item = Record<string, unknown>;

/**
 * An in-memory table behind `send`: BatchWrite leaves the first `unprocessedOnce` requests of
 * each call unprocessed once (like a throttled table), Query returns items by pk in sk order.
 */
function fakeTable(options: { unprocessedOnce?: number } = {}) {
  const items = new Map<string, Item>();
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const leftOut = new Set<string>();
  const doc = {
    async send(cmd: unknown) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await new Promise((r) => setImmediate(r));
        if (cmd instanceof BatchWriteCommand) {
          const reqs = (cmd.input.RequestItems?.[TABLE] ?? []) as {
            PutRequest: { Item: Item };
          }[];
          calls.push(`BatchWrite:${reqs.length}`);
          const unprocessed: typeof reqs = [];
          for (const [i, r] of reqs.entries()) {
            const key = `${r.PutRequest.Item.pk}|${r.PutRequest.Item.sk}`;
            if (i < (options.unprocessedOnce ?? 0) && !leftOut.has(key)) {
              leftOut.add(key);
              unprocessed.push(r);
            } else items.set(key, r.PutRequest.Item);
          }
          return { UnprocessedItems: unprocessed.length ? { [TABLE]: unprocessed } : {} };
        }
        if (cmd instanceof PutCommand) {
          calls.push('Put');
          const item = cmd.input.Item as Item;
          const key = `${item.pk}|${item.sk}`;
          if (cmd.input.ConditionExpression === 'attribute_not_exists(pk)' && items.has(key)) {
            throw Object.assign(new Error('conditional'), {
              name: 'ConditionalCheckFailedException',
            });
          }
          items.set(key, item);
          return {};
        }
        if (cmd instanceof GetCommand) {
          return { Item: items.get(`${cmd.input.Key?.pk}|${cmd.input.Key?.sk}`) };
        }
        if (cmd instanceof QueryCommand) {
          const pk = cmd.input.ExpressionAttributeValues?.[':pk'];
          const out = [...items.values()]
            .filter((i) => i.pk === pk)
            .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
          return { Items: out };
        }
        throw new Error('unexpected command');
      } finally {
        inFlight--;
      }
    },
  };
  return {
    doc: fakeDocumentClient(doc.send as never),
    items,
    calls,
    maxInFlight: () => maxInFlight,
  };
}

describe('DynamoCohortRepository', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a 1,000-agent leaderboard as pages in one BatchWriteItem, header last, and reads it back ranked', async () => {
    // Prepare
    const table = fakeTable();
    const repo = new DynamoCohortRepository(table.doc, TABLE);

    // Act
    await repo.saveCompleted(record(1000));
    const back = await repo.get('coh-1');

    // Assess
    const pages = 1000 / AGENT_PAGE_ROWS;
    expect(table.calls).toEqual([`BatchWrite:${pages}`, 'Put']);
    expect(
      [...table.items.keys()].filter((k) => k.startsWith('COHORT#coh-1|AGENTS#')),
    ).toHaveLength(pages);
    expect(back.leaderboard.map((r) => r.rank)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    expect(back.leaderboard[999]).toEqual(row(1000));
  });

  it('retries the items a BatchWriteItem left unprocessed until every page is stored', async () => {
    // Prepare: the first 3 pages of the batch come back unprocessed once
    const table = fakeTable({ unprocessedOnce: 3 });
    const repo = new DynamoCohortRepository(table.doc, TABLE);

    // Act
    await repo.saveCompleted(record(450));

    // Assess
    expect(table.calls).toEqual(['BatchWrite:5', 'BatchWrite:3', 'Put']);
    expect((await repo.get('coh-1')).leaderboard).toHaveLength(450);
  });

  it('gives up with a TransientError (and writes no header) when items stay unprocessed', async () => {
    // Prepare: a table that never processes anything
    const table = fakeTable();
    const doc = fakeDocumentClient(async (cmd: unknown) => {
      if (cmd instanceof BatchWriteCommand) return { UnprocessedItems: cmd.input.RequestItems };
      return table.doc.send(cmd as never);
    });
    const repo = new DynamoCohortRepository(doc, TABLE);

    vi.useFakeTimers({ toFake: ['setTimeout'] });

    // Act
    const saved = repo.saveCompleted(record(10)).catch((err: unknown) => err);
    await vi.runAllTimersAsync();

    // Assess
    expect(await saved).toBeInstanceOf(TransientError);
    expect(table.calls).not.toContain('Put');
  });

  it('keeps at most MAX_PARALLEL_BATCHES BatchWriteItem calls in flight', async () => {
    // Prepare: more pages than MAX_PARALLEL_BATCHES batches of 25 items hold
    const agents = (MAX_PARALLEL_BATCHES + 1) * 25 * AGENT_PAGE_ROWS;
    const table = fakeTable();
    const repo = new DynamoCohortRepository(table.doc, TABLE);

    // Act
    await repo.saveCompleted(record(agents));

    // Assess
    expect(table.calls.filter((c) => c.startsWith('BatchWrite'))).toHaveLength(
      MAX_PARALLEL_BATCHES + 1,
    );
    expect(table.maxInFlight()).toBe(MAX_PARALLEL_BATCHES);
    expect(table.calls.at(-1)).toBe('Put');
  });

  it('stores each page as one compact binary attribute that round-trips every field exactly', async () => {
    // Prepare: awkward doubles, and the optional fields both present and absent
    const table = fakeTable();
    const repo = new DynamoCohortRepository(table.doc, TABLE);
    const rec = record(150);
    rec.leaderboard[0] = {
      ...row(1),
      totalPnlUsd: 0.1 + 0.2,
      roi: -1e-300,
      sharpe: Number.MAX_VALUE,
      sessionVolatility: 1 / 3,
      maxDrawdownOfPeakFraction: 0,
    };

    // Act
    await repo.saveCompleted(rec);
    const back = await repo.get('coh-1');

    // Assess: no number attributes on a page item, and the leaderboard comes back equal
    const page = table.items.get(`COHORT#coh-1|AGENTS#${agentPageSetOf('exec-1')}#00001`) as Item;
    expect(Object.keys(page).sort()).toEqual(['data', 'format', 'pk', 'sk']);
    expect(page.format).toBe(AGENT_PAGE_FORMAT);
    expect(back.leaderboard).toEqual(rec.leaderboard);
    expect(back.leaderboard[1]).not.toHaveProperty('sessionVolatility');
  });

  it('refuses a second execution of a saved cohort before writing any page, leaving the first leaderboard whole', async () => {
    // Prepare: exec-1 saved 150 agents; exec-2 brings another leaderboard for the same id
    const table = fakeTable();
    const repo = new DynamoCohortRepository(table.doc, TABLE);
    const first = record(150);
    await repo.saveCompleted(first);
    const writes = table.calls.length;
    const second = { ...record(250), executionId: 'exec-2' };
    second.leaderboard = second.leaderboard.map((r) => ({ ...r, totalPnlUsd: 5 }));

    // Act
    const saved = repo.saveCompleted(second);

    // Assess
    await expect(saved).rejects.toThrow(CohortAlreadyExistsError);
    expect(table.calls.length).toBe(writes);
    expect((await repo.get('coh-1')).leaderboard).toEqual(first.leaderboard);
  });

  it('is a no-op for a retried save of the same execution', async () => {
    // Prepare
    const table = fakeTable();
    const repo = new DynamoCohortRepository(table.doc, TABLE);
    await repo.saveCompleted(record(10));
    const writes = table.calls.length;

    // Act
    await repo.saveCompleted(record(10));

    // Assess
    expect(table.calls.length).toBe(writes);
    expect((await repo.get('coh-1')).leaderboard).toEqual(record(10).leaderboard);
  });

  it("keeps the header's leaderboard whole when two executions race to save one cohort id", async () => {
    // Prepare: both read no header before either writes one
    const table = fakeTable();
    const repo = new DynamoCohortRepository(table.doc, TABLE);
    const a = record(150);
    const b = { ...record(150), executionId: 'exec-2' };
    b.leaderboard = b.leaderboard.map((r) => ({ ...r, totalPnlUsd: 7 }));

    // Act
    const [ra, rb] = await Promise.allSettled([repo.saveCompleted(a), repo.saveCompleted(b)]);

    // Assess: exactly one wins, and the stored leaderboard is the winner's, every row of it
    expect([ra.status, rb.status].sort()).toEqual(['fulfilled', 'rejected']);
    const back = await repo.get('coh-1');
    const winner = ra.status === 'fulfilled' ? a : b;
    expect(back.executionId).toBe(winner.executionId);
    expect(back.leaderboard).toEqual(winner.leaderboard);
  });

  it('reads pages stored as a list of row maps (the layout before the compact format)', async () => {
    // Prepare
    const table = fakeTable();
    const { leaderboard, ...header } = record(3);
    table.items.set('COHORT#coh-1|META', { pk: 'COHORT#coh-1', sk: 'META', ...header });
    table.items.set('COHORT#coh-1|AGENTS#00001', {
      pk: 'COHORT#coh-1',
      sk: 'AGENTS#00001',
      rows: [...leaderboard].reverse(),
    });

    // Act
    const back = await new DynamoCohortRepository(table.doc, TABLE).get('coh-1');

    // Assess
    expect(back.leaderboard).toEqual(leaderboard);
  });

  it.each([
    ['an unknown format', { format: 'agent-rows/2', data: gzipSync('{}') }, /agent-rows\/2/],
    [
      'bytes that are not gzip',
      { format: AGENT_PAGE_FORMAT, data: new Uint8Array([1, 2]) },
      /decode/,
    ],
    [
      'a row that fails validation',
      {
        format: AGENT_PAGE_FORMAT,
        data: gzipSync(JSON.stringify({ columns: ['rank', 'agentId'], rows: [[-1, 'a']] })),
      },
      /row 0: rank/,
    ],
    [
      'a document without rows',
      { format: AGENT_PAGE_FORMAT, data: gzipSync(JSON.stringify({ columns: ['rank'] })) },
      /not a page document: rows/,
    ],
    [
      'bytes that inflate past the page limit',
      { format: AGENT_PAGE_FORMAT, data: gzipSync(Buffer.alloc(MAX_AGENT_PAGE_JSON_BYTES + 1)) },
      /does not decode/,
    ],
    [
      'a row with too few values',
      {
        format: AGENT_PAGE_FORMAT,
        data: gzipSync(JSON.stringify({ columns: ['rank', 'agentId'], rows: [[1]] })),
      },
      /row 0 has 1 values for 2 columns/,
    ],
  ])('refuses a page with %s, naming the page', async (_, attrs, message) => {
    // Prepare: a good page and a bad one
    const table = fakeTable();
    const { leaderboard, ...header } = record(2);
    table.items.set('COHORT#coh-1|META', { pk: 'COHORT#coh-1', sk: 'META', ...header });
    table.items.set('COHORT#coh-1|AGENTS#00001', {
      pk: 'COHORT#coh-1',
      sk: 'AGENTS#00001',
      ...encodeAgentPage(leaderboard.slice(0, 1)),
    });
    table.items.set('COHORT#coh-1|AGENTS#00002', {
      pk: 'COHORT#coh-1',
      sk: 'AGENTS#00002',
      ...attrs,
    });

    // Act
    const read = new DynamoCohortRepository(table.doc, TABLE).get('coh-1');

    // Assess
    await expect(read).rejects.toThrow(CohortRecordCorruptError);
    await expect(read).rejects.toThrow(/AGENTS#00002/);
    await expect(read).rejects.toThrow(message);
  });

  it('reads cohorts stored in the older one-item-per-agent layout', async () => {
    // Prepare
    const table = fakeTable();
    const { leaderboard, ...header } = record(3);
    table.items.set('COHORT#coh-1|META', { pk: 'COHORT#coh-1', sk: 'META', ...header });
    for (const r of [...leaderboard].reverse()) {
      const sk = `AGENT#${String(r.rank).padStart(5, '0')}`;
      table.items.set(`COHORT#coh-1|${sk}`, { pk: 'COHORT#coh-1', sk, ...r });
    }

    // Act
    const back = await new DynamoCohortRepository(table.doc, TABLE).get('coh-1');

    // Assess
    expect(back.leaderboard).toEqual(leaderboard);
  });
});
