/**
 * Learning-cycle time: `runLearningCycle` on one core for pools of 30, 300 and 1,000 genomes,
 * with fitness inputs from REAL scored cohorts: each pool is simulated (`simulateCohort`) and
 * scored (`scoreCohort`) over the 6 shared LEAN sessions (2013-10-04, 07, 08, 09, 10, 11) ×
 * SPY/BAC/AIG/IBM, and the 6 leaderboards are fed to the cycle as if those cohorts had
 * completed 4 hours apart inside a 24 h lookback. Simulation and scoring are done once,
 * before timing; each pool size runs untimed warm-up cycles (JIT), then timed cycles (new seed
 * each) until at least 1 s has elapsed. Also reported: the fitness spread, how many genomes
 * were idle, the operator mix, and the gzip payload the genome-pool repository would store.
 *
 * Data root: `STAGEGATE_DATA_ROOT`, else `../shared/data/lean` relative to the repo root.
 * Target: <= 1,000 ms per cycle at 300 genomes (well inside a Lambda's budget).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../functions/core/cohort/config.js';
import { seedGenomePool } from '../functions/core/cohort/genome.js';
import { simulateCohort } from '../functions/core/cohort/simulate.js';
import {
  type LearningCycleInput,
  type LearningCycleResult,
  runLearningCycle,
} from '../functions/core/learning/learning-cycle.js';
import { scoredResultsFromCohorts } from '../functions/core/learning/scored-results.js';
import type { MarketSession } from '../functions/core/market/types.js';
import { scoreCohort } from '../functions/core/scoring/score.js';
import type { BenchReport } from './run.js';

const DATES = ['2013-10-04', '2013-10-07', '2013-10-08', '2013-10-09', '2013-10-10', '2013-10-11'];
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const POOL_SIZES = [30, 300, 1_000];
const TARGET_MS_AT_300 = 1_000;
const MIN_TIMED_MS = 1_000;
const WARM_UP_CYCLES = 3;
const HOUR_MS = 3_600_000;
/** "Now" of the cycle: half an hour after the last simulated completion. */
const NOW = Date.parse('2013-10-12T00:00:00.000Z');

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export default async function learningBench(): Promise<BenchReport> {
  const dataRoot = process.env.STAGEGATE_DATA_ROOT ?? path.resolve(repoRoot, '../shared/data/lean');
  const marketData = new LeanMarketData(new FileSystemBlobSource(dataRoot));
  const sessions: MarketSession[] = [];
  for (const date of DATES) sessions.push(await marketData.loadSession(date, SYMBOLS));

  const rows: Record<string, string | number | boolean>[] = [];
  for (const size of POOL_SIZES) {
    const config = parseCohortConfig({ bankrollUsd: 10_000, agentCount: size, seed: 1 });
    const pool = seedGenomePool(size, SYMBOLS, config.seed);
    const cohorts = sessions.map((session, i) => {
      const score = scoreCohort(
        simulateCohort({ cohortId: `bench-${size}-${i}`, session, genomes: pool, config }),
      );
      const completedAtIso = new Date(NOW - (DATES.length - i) * 4 * HOUR_MS).toISOString();
      return { sessionDate: score.sessionDate, completedAtIso, leaderboard: score.leaderboard };
    });
    const scored = scoredResultsFromCohorts(cohorts);
    const input = (seed: number): LearningCycleInput => ({
      pool,
      scored,
      lookbackHours: 24,
      now: NOW,
      seed,
      poolSize: size,
      symbols: SYMBOLS,
      eliteCount: Math.max(1, Math.round(size * 0.1)),
      mutationRate: 0.2,
      crossoverRate: 0.6,
      tournamentSize: 3,
    });

    for (let i = 0; i < WARM_UP_CYCLES; i++) runLearningCycle(input(1_000 + i));

    let cycles = 0;
    let last: LearningCycleResult | undefined;
    const times: number[] = [];
    const start = performance.now();
    while (performance.now() - start < MIN_TIMED_MS || cycles < 3) {
      const t = performance.now();
      last = runLearningCycle(input(cycles + 1));
      times.push(performance.now() - t);
      cycles++;
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((s, v) => s + v, 0) / times.length;
    const result = last as LearningCycleResult;
    const payload = gzipSync(
      Buffer.from(
        JSON.stringify({
          genomes: result.pool,
          lineage: result.lineage,
          fitness: result.fitness,
        }),
      ),
    );
    const idle = result.fitness.filter((f) => f.status === 'idle').length;
    rows.push({
      genomes: size,
      scoredResults: scored.length,
      cycles,
      meanMs: round(mean, 2),
      p50Ms: round(times[Math.floor(times.length / 2)] as number, 2),
      maxMs: round(times.at(-1) as number, 2),
      idleGenomes: idle,
      bestFitness: round(result.stats.bestFitness ?? Number.NaN, 5),
      meanFitness: round(result.stats.meanFitness ?? Number.NaN, 5),
      elites: result.stats.operators.elite,
      crossovers: result.stats.operators.crossover,
      mutations: result.stats.operators.mutation,
      immigrants: result.stats.operators.immigrant,
      storedGzipKiB: round(payload.length / 1024, 1),
      target: size === 300 ? `<= ${TARGET_MS_AT_300} ms` : '',
      meetsTarget: size === 300 ? mean <= TARGET_MS_AT_300 : '',
    });
  }

  return {
    name: 'learning',
    description:
      'runLearningCycle time on one core, fitness from real cohorts (6 LEAN sessions × SPY/BAC/AIG/IBM, 24 h lookback); target <= 1,000 ms at 300 genomes',
    rows,
  };
}
