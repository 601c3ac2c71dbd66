/**
 * Run-report generation: time (ms) and size (KiB) of `renderRunReport` for 30, 300 and 1,000 agents
 * × 3 real sessions (2013-10-07/08/09, SPY/BAC/AIG/IBM, bankroll 1,000 USD per 30 agents).
 * Sessions are loaded, simulated and scored before timing (only rendering is timed); each
 * configuration renders once untimed (JIT warm-up), then repeatedly until at least 1 s has
 * elapsed (and at least 3 times). Target: < 1.5 MB at 30 agents × 3 days.
 *
 * Data root: `STAGEGATE_DATA_ROOT` (or `STAGEGATE_DATA`), else `../shared/data/lean`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../functions/core/cohort/config.js';
import { seedGenomePool } from '../functions/core/cohort/genome.js';
import { simulateCohort } from '../functions/core/cohort/simulate.js';
import type { MarketSession } from '../functions/core/market/types.js';
import {
  type ReportDay,
  type RunReportInput,
  renderRunReport,
} from '../functions/core/report/render.js';
import { scoreCohort } from '../functions/core/scoring/score.js';
import type { BenchReport } from './run.js';

const DATES = ['2013-10-07', '2013-10-08', '2013-10-09'];
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const AGENT_COUNTS = [30, 300, 1000];
const TARGET_BYTES_30_AGENTS = 1.5 * 1024 * 1024;
const MIN_TIMED_MS = 1_000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function runInput(sessions: readonly MarketSession[], agents: number): RunReportInput {
  const config = parseCohortConfig({
    bankrollUsd: (1_000 * agents) / 30,
    agentCount: agents,
    seed: 7,
  });
  const genomes = seedGenomePool(agents, SYMBOLS, config.seed);
  const days: ReportDay[] = sessions.map((session) => {
    const cohortId = `bench-${agents}-${session.date}`;
    const simulation = simulateCohort({ cohortId, session, genomes, config });
    return { sessionDate: session.date, cohortId, simulation, score: scoreCohort(simulation) };
  });
  return {
    title: `report bench, ${agents} agents`,
    generatedAtIso: '2013-10-09T21:00:00.000Z',
    environment: 'bench',
    days,
    learning: [
      { generation: 0, bestFitness: 0.001, meanFitness: 0 },
      { generation: 1, bestFitness: 0.002, meanFitness: 0.0005 },
      { generation: 2, bestFitness: 0.0025, meanFitness: 0.001 },
    ],
  };
}

export default async function reportBench(): Promise<BenchReport> {
  const dataRoot =
    process.env.STAGEGATE_DATA_ROOT ??
    process.env.STAGEGATE_DATA ??
    path.resolve(repoRoot, '../shared/data/lean');
  const marketData = new LeanMarketData(new FileSystemBlobSource(dataRoot));
  const sessions: MarketSession[] = [];
  for (const date of DATES) sessions.push(await marketData.loadSession(date, SYMBOLS));

  const rows: Record<string, string | number | boolean>[] = [];
  for (const agents of AGENT_COUNTS) {
    const input = runInput(sessions, agents);
    let html = renderRunReport(input); // warm-up (untimed)
    let runs = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < MIN_TIMED_MS || runs < 3) {
      html = renderRunReport(input);
      runs++;
      elapsed = performance.now() - start;
    }
    const bytes = Buffer.byteLength(html, 'utf8');
    rows.push({
      agents,
      days: sessions.length,
      barsPerDay: Math.round(
        sessions.reduce((s, x) => s + x.timestamps.length, 0) / sessions.length,
      ),
      runs,
      msPerReport: Math.round((elapsed / runs) * 100) / 100,
      sizeKiB: Math.round((bytes / 1024) * 10) / 10,
      polylines: html.split('<polyline').length - 1,
      target: agents === 30 ? '< 1.5 MiB' : '',
      meetsTarget: agents === 30 ? bytes < TARGET_BYTES_30_AGENTS : '',
    });
  }
  return {
    name: 'report',
    description:
      'renderRunReport time and size, 3 real sessions × SPY/BAC/AIG/IBM (target < 1.5 MiB at 30 agents)',
    rows,
  };
}
