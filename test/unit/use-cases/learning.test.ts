/**
 * The learning-cycle use case reads the training sessions before the lookback's validation
 * session, persists and records the split, and reads nothing completed after its clock.
 */
import { describe, expect, it } from 'vitest';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import type { GenomeGeneration } from '../../../functions/core/learning/generation.js';
import type {
  CohortRecord,
  CohortSummary,
} from '../../../functions/core/use-cases/cohort-records.js';
import {
  type LearningConfig,
  learningCycle,
  parseLearningConfig,
} from '../../../functions/core/use-cases/learning.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { CohortRepository } from '../../../functions/ports/cohort-repository.js';
import type { GenomePoolRepository } from '../../../functions/ports/genome-pool.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const NOW = Date.UTC(2013, 9, 7, 21, 0);
const HOUR = 3_600_000;
const SYMBOLS = ['SPY', 'AIG'];
const pool = seedGenomePool(6, SYMBOLS, 7);

/** A complete cohort of every pool genome on `sessionDate`, completed `hoursAgo` before NOW. */
function cohort(sessionDate: string, hoursAgo: number, roi: (i: number) => number): CohortRecord {
  return {
    cohortId: `c-${sessionDate}`,
    sessionDate,
    completedAtIso: new Date(NOW - hoursAgo * HOUR).toISOString(),
    symbols: SYMBOLS,
    bankrollUsd: 1_000,
    agentCount: pool.length,
    leaderboard: pool.map((g, i) => ({
      genomeId: g.id,
      totalPnlUsd: roi(i) * 100,
      roi: roi(i),
      maxDrawdownFraction: 0,
      tradeCount: 4,
    })),
  } as unknown as CohortRecord;
}

function setup(config: Partial<LearningConfig>, extra: readonly CohortRecord[] = []) {
  const cohorts = [
    ...extra,
    cohort('2013-10-03', 73, (i) => 0.01 * i),
    cohort('2013-10-04', 49, (i) => -0.01 * i),
    cohort('2013-10-07', 1, (i) => 0.02 * (i % 3)),
    // The next session, completed after the cycle's clock: never read.
    cohort('2013-10-08', -20, () => 0.5),
  ];
  const got: string[] = [];
  const repo: CohortRepository = {
    saveCompleted: async () => undefined,
    get: async (id) => {
      got.push(id);
      return cohorts.find((c) => c.cohortId === id) as CohortRecord;
    },
    list: async () =>
      [...cohorts]
        .reverse()
        .map((c) => ({ ...c, totalPnlUsd: 0, bestAgentId: null })) as readonly CohortSummary[],
  };
  const saved: GenomeGeneration[] = [];
  /** The market of each saved generation, in save order. */
  const savedMarkets: string[] = [];
  const generation0: GenomeGeneration = {
    generation: 0,
    genomes: pool,
    lineage: [],
    fitness: [],
    seed: 7,
    createdAtIso: new Date(NOW - 100 * HOUR).toISOString(),
    trials: pool.length,
  };
  // One pool per market: each starts at generation0 and grows by its own saves.
  const ofMarket = (market: string) => saved.filter((_, i) => savedMarkets[i] === market);
  const genomePool: GenomePoolRepository = {
    getCurrent: async (market) => ofMarket(market).at(-1) ?? generation0,
    getGeneration: async (market, n) => (n === 0 ? generation0 : (ofMarket(market)[n - 1] ?? null)),
    saveGeneration: async (market, g) => {
      saved.push(g);
      savedMarkets.push(market);
    },
  };
  const clock = new ManualClock(NOW);
  const audit = new MemoryAuditSink(clock);
  const deps = {
    clock,
    cohorts: repo,
    genomePool,
    audit,
    environment: 'dev' as const,
    config: parseLearningConfig({
      lookbackHours: 24,
      eliteCount: 2,
      mutationRate: 0.3,
      crossoverRate: 0.5,
      tournamentSize: 3,
      ...config,
    }),
  };
  return { deps, got, saved, savedMarkets, audit };
}

describe('learningCycle: the validation split', () => {
  it('validates on the lookback session and trains on the sessions before it, as persisted and recorded', async () => {
    // Prepare
    const { deps, got, saved, audit } = setup({});

    // Act
    const out = await learningCycle(deps, {
      request: { source: 'test', seed: 5 },
      executionName: 'x',
    });

    // Assess
    expect(deps.config.validationSessions).toBe(1);
    expect(out.status).toBe('evolved');
    expect(out.validation).toMatchObject({
      status: 'split',
      trainingSessionDates: ['2013-10-03', '2013-10-04'],
      validationSessionDates: ['2013-10-07'],
    });
    expect(got.sort()).toEqual(['c-2013-10-03', 'c-2013-10-04', 'c-2013-10-07']);
    expect(saved[0]?.stats?.validation?.validationSessionDates).toEqual(['2013-10-07']);
    expect(saved[0]?.validationFitness?.[0]?.samples).toBe(1);
    const payload = audit.records().find((r) => r.kind === 'learning_cycle')?.payload;
    expect(JSON.parse(String(payload)).validation).toMatchObject({
      status: 'split',
      training_sessions: ['2013-10-03', '2013-10-04'],
      validation_sessions: ['2013-10-07'],
    });
  });

  it('without validation reads the lookback only, as before', async () => {
    // Prepare
    const { deps, got } = setup({ validationSessions: 0 });

    // Act
    const out = await learningCycle(deps, {
      request: { source: 'test', seed: 5 },
      executionName: 'x',
    });

    // Assess
    expect(got).toEqual(['c-2013-10-07']);
    expect(out.validation).toMatchObject({
      status: 'off',
      trainingSessionDates: ['2013-10-07'],
      validationSessionDates: [],
    });
  });
});

describe('learningCycle: the market of the chain that started it', () => {
  /** A crypto cohort (UTC day) completed 2 hours before NOW, with the best results of all. */
  const crypto = {
    ...cohort('2013-10-06', 2, () => 0.9),
    cohortId: 'c-crypto-2013-10-06',
    market: 'crypto',
  } as CohortRecord;

  it("breeds the requested market's pool from that market's cohorts only; no market means equity", async () => {
    // Prepare
    const equity = setup({ validationSessions: 0 }, [crypto]);
    const cryptoOnly = setup({ validationSessions: 0 }, [crypto]);
    const any = setup({ validationSessions: 0 }, [crypto]);

    // Act: the session-ingestion chain passes {source, market}
    await learningCycle(equity.deps, {
      request: { source: 'schedule', market: 'equity-usa', seed: 5 },
      executionName: 'x',
    });
    await learningCycle(cryptoOnly.deps, {
      request: { source: 'schedule', market: 'crypto', seed: 5 },
      executionName: 'y',
    });
    await learningCycle(any.deps, { request: { source: 'schedule', seed: 5 }, executionName: 'z' });

    // Assess: an equity cycle never reads the crypto cohort (nor a crypto cycle the equity ones),
    // and each saves into its own market's pool; a request without a market is the equity one
    expect(equity.got).toEqual(['c-2013-10-07']);
    expect(cryptoOnly.got).toEqual(['c-crypto-2013-10-06']);
    expect(any.got).toEqual(['c-2013-10-07']);
    expect(equity.savedMarkets).toEqual(['equity-usa']);
    expect(cryptoOnly.savedMarkets).toEqual(['crypto']);
    expect(any.savedMarkets).toEqual(['equity-usa']);
    expect(any.saved[0]?.genomes).toEqual(equity.saved[0]?.genomes);
    expect(JSON.parse(equity.audit.records().at(-1)?.payload ?? '{}')).toMatchObject({
      market: 'equity-usa',
    });
    expect(JSON.parse(cryptoOnly.audit.records().at(-1)?.payload ?? '{}')).toMatchObject({
      market: 'crypto',
    });
  });

  it('refuses an unknown market, naming the field', async () => {
    // Prepare
    const { deps } = setup({});

    // Act + Assess
    await expect(
      learningCycle(deps, { request: { source: 'schedule', market: 'fx' }, executionName: 'x' }),
    ).rejects.toThrow(/request\.market/);
  });
});
