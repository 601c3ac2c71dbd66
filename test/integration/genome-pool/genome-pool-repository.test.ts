/**
 * DynamoGenomePoolRepository against real DynamoDB Local (started by local/servers.ts, in
 * memory): generations round-trip, CURRENT moves only from generation − 1, a generation is
 * written once (identical re-save is a no-op), concurrent cycles cannot both win, parts stay
 * under the item size limit and are checked on read; each market's pool is its own (the equity
 * pool keeps the keys of the single pool stored before pools were per market).
 */

import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoGenomePoolRepository } from '../../../functions/adapters/dynamodb/genome-pool-repository.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  GenerationAlreadyExistsError,
  GenomePoolConflictError,
  GenomePoolCorruptError,
  ValidationError,
} from '../../../functions/core/errors.js';
import type { GenomeGeneration } from '../../../functions/core/learning/generation.js';
import { runLearningCycle } from '../../../functions/core/learning/learning-cycle.js';
import { ensureTable } from '../../../local/servers.js';
import { useLocalDynamo } from '../../support/local-dynamo.js';
import { cycleInput, NOW, randomResults } from '../../unit/learning/fixtures.js';

const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const MAX_ITEM_BYTES = 400 * 1024;
const EQUITY = 'equity-usa';

const local = useLocalDynamo(['stagegate-genome-pool']);
let tables = 0;

/** A fresh table per test: the pool pointer is a single item per table. */
async function freshRepository(
  options: { partBytes?: number } = {},
): Promise<{ repo: DynamoGenomePoolRepository; table: string }> {
  tables++;
  const table = `genome-pool-${tables}`;
  await ensureTable(local.client, table);
  return { repo: new DynamoGenomePoolRepository(local.doc, table, options), table };
}

function generation0(size = 30, seed = 1): GenomeGeneration {
  return {
    generation: 0,
    genomes: seedGenomePool(size, SYMBOLS, seed),
    lineage: [],
    fitness: [],
    seed,
    createdAtIso: '2013-10-07T13:00:00.000Z',
  };
}

function bred(from: GenomeGeneration, seed: number): GenomeGeneration {
  const out = runLearningCycle({
    ...cycleInput(from.genomes.length, { pool: from.genomes }),
    scored: randomResults(from.genomes, seed),
    seed,
  });
  return {
    generation: from.generation + 1,
    genomes: out.pool,
    lineage: out.lineage,
    fitness: out.fitness,
    seed,
    createdAtIso: new Date(NOW).toISOString(),
    stats: out.stats,
  };
}

async function rawItems(table: string): Promise<Record<string, unknown>[]> {
  const out = await local.doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'GENOME_POOL' },
    }),
  );
  return out.Items ?? [];
}

/** Outcome of a promise without an unhandled rejection. */
async function settle(p: Promise<void>): Promise<{ ok?: true; error?: unknown }> {
  try {
    await p;
    return { ok: true };
  } catch (error) {
    return { error };
  }
}

/**
 * DynamoDB item size as AWS counts it (attribute names + values: strings in UTF-8 bytes,
 * binaries in bytes, numbers up to 21 bytes, maps/lists as their JSON), an upper bound.
 */
function itemBytes(item: Record<string, unknown>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    total += Buffer.byteLength(name);
    if (value instanceof Uint8Array) total += value.byteLength;
    else if (typeof value === 'string') total += Buffer.byteLength(value);
    else if (typeof value === 'number') total += 21;
    else total += Buffer.byteLength(JSON.stringify(value ?? null));
  }
  return total;
}

describe('DynamoGenomePoolRepository', () => {
  it('has no current pool before generation 0', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const current = await repo.getCurrent(EQUITY);
    const zero = await repo.getGeneration(EQUITY, 0);

    // Assess
    expect(current).toBeNull();
    expect(zero).toBeNull();
  });

  it('round-trips generations 0 and 1 and moves CURRENT to the newest', async () => {
    // Prepare
    const { repo, table } = await freshRepository();
    const g0 = generation0();
    const g1 = bred(g0, 5);

    // Act
    await repo.saveGeneration(EQUITY, g0);
    const afterZero = await repo.getCurrent(EQUITY);
    await repo.saveGeneration(EQUITY, g1);
    const afterOne = await repo.getCurrent(EQUITY);
    const readZero = await repo.getGeneration(EQUITY, 0);

    // Assess
    expect(afterZero).toEqual({ ...g0, stats: null });
    expect(afterOne).toEqual(g1);
    expect(readZero?.genomes).toEqual(g0.genomes);
    const keys = (await rawItems(table)).map((i) => String(i.sk)).sort();
    expect(keys).toEqual([
      'CURRENT',
      'GEN#0000000000',
      expect.stringMatching(/^GEN#0000000000#PART#[0-9a-f]{16}#0000$/),
      'GEN#0000000001',
      expect.stringMatching(/^GEN#0000000001#PART#[0-9a-f]{16}#0000$/),
    ]);
  });

  it('treats an identical re-save as a retry and refuses different content for the same number', async () => {
    // Prepare
    const { repo } = await freshRepository();
    const g0 = generation0();
    const g1 = bred(g0, 5);
    await repo.saveGeneration(EQUITY, g0);
    await repo.saveGeneration(EQUITY, g1);

    // Act
    const retry = await settle(repo.saveGeneration(EQUITY, g1));
    const other = await settle(repo.saveGeneration(EQUITY, bred(g0, 6)));

    // Assess
    expect(retry).toEqual({ ok: true });
    expect(other.error).toBeInstanceOf(GenerationAlreadyExistsError);
    expect((await repo.getCurrent(EQUITY))?.seed).toBe(5);
  });

  it('refuses a generation not bred from the current one (optimistic concurrency)', async () => {
    // Prepare
    const { repo } = await freshRepository();
    const g0 = generation0();
    const g1 = bred(g0, 5);
    await repo.saveGeneration(EQUITY, g0);

    // Act
    const skipping = await settle(repo.saveGeneration(EQUITY, { ...bred(g1, 7), generation: 2 }));
    const secondSeed = await settle(repo.saveGeneration(EQUITY, generation0(30, 2)));

    // Assess
    expect(skipping.error).toBeInstanceOf(GenomePoolConflictError);
    expect(skipping.error).toMatchObject({ expectedPrevious: 1, actual: 0, market: EQUITY });
    expect((skipping.error as Error | undefined)?.message).toBe(
      'equity-usa genome pool moved: expected current generation 1, found 0',
    );
    expect(secondSeed.error).toBeInstanceOf(GenerationAlreadyExistsError);
    expect((await repo.getCurrent(EQUITY))?.generation).toBe(0);
    expect(await repo.getGeneration(EQUITY, 2)).toBeNull();
  });

  it('lets exactly one of two concurrent cycles bred from the same generation win', async () => {
    // Prepare
    const { repo } = await freshRepository();
    const g0 = generation0();
    await repo.saveGeneration(EQUITY, g0);
    const a = bred(g0, 11);
    const b = bred(g0, 12);

    // Act
    const results = await Promise.allSettled([
      repo.saveGeneration(EQUITY, a),
      repo.saveGeneration(EQUITY, b),
    ]);

    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const reason = (lost[0] as PromiseRejectedResult).reason;
    expect(
      reason instanceof GenerationAlreadyExistsError || reason instanceof GenomePoolConflictError,
    ).toBe(true);
    const current = await repo.getCurrent(EQUITY);
    expect(current?.generation).toBe(1);
    expect([a.seed, b.seed]).toContain(current?.seed);
  });

  it('splits a large generation into parts under the 400 KB item limit and reads it back', async () => {
    // Prepare: 1,000 genomes in one default part; 30 genomes in 500-byte parts
    const big = await freshRepository();
    const small = await freshRepository({ partBytes: 500 });
    const g0 = generation0(1_000, 3);
    const g1 = bred(g0, 4);
    const s0 = generation0(30, 3);

    // Act
    await big.repo.saveGeneration(EQUITY, g0);
    await big.repo.saveGeneration(EQUITY, g1);
    await small.repo.saveGeneration(EQUITY, s0);
    const readBig = await big.repo.getCurrent(EQUITY);
    const readSmall = await small.repo.getCurrent(EQUITY);

    // Assess
    expect(readBig).toEqual(g1);
    expect(readSmall?.genomes).toEqual(s0.genomes);
    const sizes = (await rawItems(big.table)).map(itemBytes);
    expect(Math.max(...sizes)).toBeGreaterThan(50_000);
    expect(Math.max(...sizes)).toBeLessThan(MAX_ITEM_BYTES);
    const smallParts = (await rawItems(small.table)).filter((i) => String(i.sk).includes('#PART#'));
    expect(smallParts.length).toBeGreaterThan(1);
  });

  it('reports a generation with a missing part as corrupt', async () => {
    // Prepare
    const { repo, table } = await freshRepository({ partBytes: 500 });
    await repo.saveGeneration(EQUITY, generation0());
    const part = (await rawItems(table)).find((i) => String(i.sk).endsWith('#0001'));
    expect(part).toBeDefined();
    await local.doc.send(
      new DeleteCommand({ TableName: table, Key: { pk: 'GENOME_POOL', sk: part?.sk } }),
    );

    // Act
    const read = repo.getCurrent(EQUITY);

    // Assess
    await expect(read).rejects.toThrow(GenomePoolCorruptError);
    await expect(read).rejects.toThrow(/^equity-usa genome pool generation 0 is corrupt: /);
  });

  it('validates what it saves', async () => {
    // Prepare
    const { repo } = await freshRepository();
    const g0 = generation0();

    // Act
    const empty = await settle(repo.saveGeneration(EQUITY, { ...g0, genomes: [] }));
    const duplicate = await settle(
      repo.saveGeneration(EQUITY, {
        ...g0,
        genomes: [g0.genomes[0], g0.genomes[0]] as GenomeGeneration['genomes'],
      }),
    );

    // Assess
    expect(empty.error).toBeInstanceOf(ValidationError);
    expect(duplicate.error).toMatchObject({ field: 'genomes[1].id' });
    expect(await repo.getCurrent(EQUITY)).toBeNull();
  });

  it('keeps one pool per market in the same table: generations, CURRENT and conflicts never cross', async () => {
    // Prepare: an equity pool at generation 1, then a crypto pool seeded on other symbols
    const { repo, table } = await freshRepository();
    const e0 = generation0(30, 1);
    const e1 = bred(e0, 5);
    const c0: GenomeGeneration = {
      ...generation0(20, 9),
      genomes: seedGenomePool(20, ['BTCUSD', 'ETHUSD'], 9),
    };
    await repo.saveGeneration(EQUITY, e0);
    await repo.saveGeneration(EQUITY, e1);

    // Act: crypto's generation 0 is its own (not a conflict with equity's CURRENT = 1)
    await repo.saveGeneration('crypto', c0);
    const c1 = bred(c0, 6);
    await repo.saveGeneration('crypto', c1);
    const equityAfter = await repo.getCurrent(EQUITY);
    const cryptoAfter = await repo.getCurrent('crypto');
    const cryptoZero = await repo.getGeneration('crypto', 0);
    const staleEquity = await settle(
      repo.saveGeneration(EQUITY, { ...bred(e0, 7), generation: 1 }),
    );

    // Assess
    expect(equityAfter).toEqual(e1);
    expect(cryptoAfter).toEqual(c1);
    expect(cryptoZero?.genomes).toEqual(c0.genomes);
    expect(cryptoZero?.genomes.every((g) => ['BTCUSD', 'ETHUSD'].includes(g.symbol))).toBe(true);
    expect(staleEquity.error).toBeInstanceOf(GenerationAlreadyExistsError);
    expect((staleEquity.error as Error | undefined)?.message).toBe(
      'equity-usa genome pool generation 1 already exists with different content',
    );
    const keys = (await rawItems(table)).map((i) => String(i.sk));
    expect(keys.filter((k) => k.startsWith('MARKET#crypto#')).sort()).toEqual([
      'MARKET#crypto#CURRENT',
      'MARKET#crypto#GEN#0000000000',
      expect.stringMatching(/^MARKET#crypto#GEN#0000000000#PART#[0-9a-f]{16}#0000$/),
      'MARKET#crypto#GEN#0000000001',
      expect.stringMatching(/^MARKET#crypto#GEN#0000000001#PART#[0-9a-f]{16}#0000$/),
    ]);

    // Each error names its pool's market (a stale crypto save, after the keys were listed:
    // its parts are written before the refusal).
    const staleCrypto = await settle(
      repo.saveGeneration('crypto', { ...bred(c0, 8), generation: 1 }),
    );
    expect(staleCrypto.error).toMatchObject({ generation: 1, market: 'crypto' });
    expect((staleCrypto.error as Error | undefined)?.message).toBe(
      'crypto genome pool generation 1 already exists with different content',
    );
  });

  it('stores the equity pool under the keys of the single pre-market pool (no migration); crypto reads none there', async () => {
    // Prepare: the layout pools had before they were per market (sk CURRENT, GEN#n, parts)
    const { repo, table } = await freshRepository();
    const g0 = generation0(30, 4);
    await repo.saveGeneration(EQUITY, g0);
    const legacy = (await rawItems(table)).map((i) => String(i.sk)).sort();

    // Act
    const equity = await repo.getCurrent(EQUITY);
    const crypto = await repo.getCurrent('crypto');

    // Assess
    expect(legacy).toEqual([
      'CURRENT',
      'GEN#0000000000',
      expect.stringMatching(/^GEN#0000000000#PART#[0-9a-f]{16}#0000$/),
    ]);
    expect(equity?.genomes).toEqual(g0.genomes);
    expect(crypto).toBeNull();
  });
});
