/**
 * Cohort simulation throughput: agent-bars (agents × session minutes) per second of wall time
 * and per CPU-second of this process, of `simulateCohort` on one core, for 30, 300 and 1,000 agents over the 6 shared LEAN sessions
 * (2013-10-04, 07, 08, 09, 10, 11) × SPY/BAC/AIG/IBM. Sessions are loaded once, before timing;
 * each configuration runs one untimed warm-up pass (JIT) and then timed passes over all six
 * sessions until at least 1.5 s has elapsed. Scoring time is reported beside it.
 *
 * Data root: `STAGEGATE_DATA_ROOT`, else `../shared/data/lean` relative to the repo root.
 * Target: >= 10,000,000 agent-bars/s at 1,000 agents.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../functions/core/cohort/config.js';
import { seedGenomePool } from '../functions/core/cohort/genome.js';
import { type SimulationResult, simulateCohort } from '../functions/core/cohort/simulate.js';
import type { MarketSession } from '../functions/core/market/types.js';
import { scoreCohort } from '../functions/core/scoring/score.js';
import type { BenchReport } from './run.js';

const DATES = ['2013-10-04', '2013-10-07', '2013-10-08', '2013-10-09', '2013-10-10', '2013-10-11'];
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const AGENT_COUNTS = [30, 300, 1_000];
const TARGET_AGENT_BARS_PER_SEC = 10_000_000;
const MIN_TIMED_MS = 1_500;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

export default async function cohortThroughput(): Promise<BenchReport> {
  const dataRoot = process.env.STAGEGATE_DATA_ROOT ?? path.resolve(repoRoot, '../shared/data/lean');
  const marketData = new LeanMarketData(new FileSystemBlobSource(dataRoot));
  const sessions: MarketSession[] = [];
  for (const date of DATES) sessions.push(await marketData.loadSession(date, SYMBOLS));
  const barsPerPass = sessions.reduce((sum, s) => sum + s.timestamps.length, 0);

  const rows: Record<string, string | number | boolean>[] = [];
  for (const agents of AGENT_COUNTS) {
    const config = parseCohortConfig({ bankrollUsd: 10_000, agentCount: agents, seed: 1 });
    const genomes = seedGenomePool(agents, SYMBOLS, config.seed);
    const simulate = (session: MarketSession): SimulationResult =>
      simulateCohort({ cohortId: `bench-${agents}`, session, genomes, config });

    // Warm-up pass (untimed).
    for (const session of sessions) simulate(session);

    let passes = 0;
    let trades = 0;
    let last: SimulationResult | undefined;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let elapsed = 0;
    while (elapsed < MIN_TIMED_MS || passes < 2) {
      for (const session of sessions) {
        last = simulate(session);
        for (const a of last.agents) trades += a.tradeCount;
      }
      passes++;
      elapsed = performance.now() - start;
    }
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const heapUsed = process.memoryUsage().heapUsed;
    const agentBars = agents * barsPerPass * passes;
    const perSec = agentBars / (elapsed / 1_000);
    // CPU time of this process (GC threads included): steadier than wall time on a busy machine.
    const perCpuSec = agentBars / cpuSeconds;

    const results = sessions.map(simulate);
    const scoreStart = performance.now();
    for (const r of results) scoreCohort(r);
    const scoreMs = (performance.now() - scoreStart) / sessions.length;
    const jsonMb = last ? mib(Buffer.byteLength(JSON.stringify(last))) : 0;

    rows.push({
      agents,
      sessions: sessions.length,
      barsPerSession: Math.round(barsPerPass / sessions.length),
      passes,
      agentBars,
      seconds: Math.round(elapsed) / 1_000,
      agentBarsPerSec: Math.round(perSec),
      cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
      agentBarsPerCpuSec: Math.round(perCpuSec),
      msPerSession: Math.round((elapsed / (passes * sessions.length)) * 100) / 100,
      scoreMsPerSession: Math.round(scoreMs * 100) / 100,
      tradesPerSession: Math.round(trades / (passes * sessions.length)),
      resultJsonMiB: jsonMb,
      heapUsedMiB: mib(heapUsed),
      target: agents === 1_000 ? TARGET_AGENT_BARS_PER_SEC : '',
      meetsTarget: agents === 1_000 ? perSec >= TARGET_AGENT_BARS_PER_SEC : '',
    });
  }

  return {
    name: 'cohort-throughput',
    description:
      'simulateCohort agent-bars/s on one core, 6 LEAN sessions × SPY/BAC/AIG/IBM (target >= 10M agent-bars/s at 1,000 agents)',
    rows,
  };
}
