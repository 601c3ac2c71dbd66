/**
 * One genome pool per market on the local stack (DynamoDB Local, the shipped ASL): equity and
 * crypto cohorts and learning cycles interleave, and neither pool receives the other's
 * genomes; each market's cohorts draw from that market's pool (after its learning cycle, its
 * bred generation, never a seeded generation 0); a learning request without a market breeds
 * the equity pool; each market's DSR trial count is its own pool's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Market } from '../../../functions/core/calendar/market-calendar.js';
import type { CohortRecord } from '../../../functions/core/use-cases/cohort-records.js';
import { trialsThrough } from '../../../functions/core/use-cases/day3-evidence.js';
import type { LearningOutput } from '../../../functions/core/use-cases/learning.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { GenomeGeneration } from '../../../functions/ports/genome-pool.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { runTestCohort, SHARED_SYMBOLS } from '../../support/cohort.js';
import { DATA_ROOT } from '../../support/paths.js';

const HOUR = 3_600_000;
const CRYPTO = ['BTCUSD', 'ETHUSD'];
/** Long after every session used: cohorts are complete, never partial. */
const START = Date.parse('2019-01-07T12:00:00Z');

let stack: LocalStack;
let executions = 0;

beforeAll(async () => {
  stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(START),
    brokerAccount: 'it-per-market-pools',
  });
});

afterAll(async () => {
  await stack?.stop();
});

async function equityCohort(sessionDate: string): Promise<CohortRecord> {
  const id = await runTestCohort(stack, {
    sessionDate,
    executionName: `pools-eq-${++executions}`,
    agentCount: 30,
    seed: 1,
  });
  return stack.runtime.cohorts.get(id);
}

async function cryptoCohort(sessionDate: string): Promise<CohortRecord> {
  const id = await runTestCohort(stack, {
    sessionDate,
    executionName: `pools-cr-${++executions}`,
    market: 'crypto',
    symbols: CRYPTO,
    agentCount: 12,
    seed: 2,
  });
  return stack.runtime.cohorts.get(id);
}

/** One learning cycle through the shipped ASL, an hour after the last step. */
async function learn(market?: Market): Promise<LearningOutput> {
  stack.clock.set(stack.clock.now() + HOUR);
  const result = await stack.learningCycle.execute(
    { source: 'test', seed: 5, ...(market ? { market } : {}) },
    { executionName: `pools-learn-${++executions}` },
  );
  expect(result.status).toBe('SUCCEEDED');
  return result.output as LearningOutput;
}

/** Every stored generation of `market`'s pool, 0 first. */
async function generations(market: Market): Promise<GenomeGeneration[]> {
  const current = await stack.runtime.genomePool.getCurrent(market);
  const out: GenomeGeneration[] = [];
  for (let g = 0; g <= (current?.generation ?? -1); g++) {
    out.push((await stack.runtime.genomePool.getGeneration(market, g)) as GenomeGeneration);
  }
  return out;
}

const symbolsOf = (gens: readonly GenomeGeneration[]) =>
  [...new Set(gens.flatMap((g) => g.genomes.map((x) => x.symbol)))].sort();

describe('one genome pool per market on the local stack', () => {
  it('interleaves equity and crypto cohorts and learning cycles without mixing the pools', async () => {
    // Act: equity seeds its pool, crypto seeds its own; a crypto cycle, then a cycle with no
    // market (the equity one); both markets trade their bred generation; then both learn again
    const e1 = await equityCohort('2013-10-07');
    const c1 = await cryptoCohort('2017-09-03');
    const learnCrypto1 = await learn('crypto');
    const learnDefault = await learn();
    const e2 = await equityCohort('2013-10-08');
    const c2 = await cryptoCohort('2017-09-04');
    const learnEquity2 = await learn('equity-usa');
    const learnCrypto2 = await learn('crypto');
    const equity = await generations('equity-usa');
    const crypto = await generations('crypto');

    // Assess: each first cohort seeded its own market's generation 0
    expect([e1.market ?? 'equity-usa', e1.genomeGeneration]).toEqual(['equity-usa', 0]);
    expect([c1.market, c1.genomeGeneration]).toEqual(['crypto', 0]);
    // each cycle bred its own market's pool, the default one the equity pool
    expect([learnCrypto1.status, learnCrypto1.generation]).toEqual(['evolved', 1]);
    expect([learnDefault.status, learnDefault.generation]).toEqual(['evolved', 1]);
    expect([learnEquity2.generation, learnCrypto2.generation]).toEqual([2, 2]);
    expect(equity.map((g) => g.generation)).toEqual([0, 1, 2]);
    expect(crypto.map((g) => g.generation)).toEqual([0, 1, 2]);
    // neither pool ever held the other market's genomes
    expect(symbolsOf(equity).every((s) => (SHARED_SYMBOLS as readonly string[]).includes(s))).toBe(
      true,
    );
    expect(symbolsOf(crypto).every((s) => CRYPTO.includes(s))).toBe(true);
    expect(equity.every((g) => g.genomes.length === 30)).toBe(true);
    expect(crypto.every((g) => g.genomes.length === 12)).toBe(true);
    // the second cohorts traded their market's bred generation 1, genome for genome
    expect(e2.genomeGeneration).toBe(1);
    expect(c2.genomeGeneration).toBe(1);
    const ids = (g: GenomeGeneration | undefined) => new Set(g?.genomes.map((x) => x.id));
    expect(e2.leaderboard.every((r) => ids(equity[1]).has(r.genomeId))).toBe(true);
    expect(c2.leaderboard.every((r) => ids(crypto[1]).has(r.genomeId))).toBe(true);
    // each market's DSR counts its own pool's trials
    const cryptoTrials = await trialsThrough(stack.runtime.genomePool, 'crypto', 2);
    const equityTrials = await trialsThrough(stack.runtime.genomePool, 'equity-usa', 2);
    expect(cryptoTrials).toBe(crypto[2]?.trials);
    expect(equityTrials).toBe(equity[2]?.trials);
    expect(cryptoTrials).toBeGreaterThanOrEqual(12);
    expect(cryptoTrials).toBeLessThan(equityTrials as number);
  });
});
