/**
 * Market-data loader benchmark: how long `LeanMarketData.loadSession` takes to unzip, parse,
 * validate and align LEAN minute files from the local filesystem.
 *
 * - cold: a fresh loader per iteration (empty parse cache; the OS file cache is warm after
 *   the first read, as on a warm Lambda host reading from S3 it would not be);
 * - warm: one loader reused (parsed files served from its LRU cache, only alignment runs).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import type { BenchReport } from './run.js';

const LEAN_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/data/lean',
);
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'] as const;
const DATE = '2013-10-04';

interface Stats {
  readonly iterations: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

async function measure(iterations: number, run: () => Promise<unknown>): Promise<Stats> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    iterations,
    meanMs: round(samples.reduce((s, x) => s + x, 0) / samples.length),
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    maxMs: round(samples[samples.length - 1]!),
  };
}

const newLoader = (): LeanMarketData => new LeanMarketData(new FileSystemBlobSource(LEAN_ROOT));

export default async function marketDataBench(): Promise<BenchReport> {
  const sessions = await newLoader().listSessions(SYMBOLS);
  // Warm up the JIT and the OS file cache once, outside the measurements.
  for (const date of sessions) await newLoader().loadSession(date, SYMBOLS);

  const loadAll = async (md: LeanMarketData): Promise<void> => {
    for (const date of sessions) await md.loadSession(date, SYMBOLS);
  };
  const warmOne = newLoader();
  await warmOne.loadSession(DATE, SYMBOLS);
  const warmAll = newLoader();
  await loadAll(warmAll);

  const rows = [
    {
      case: 'loadSession cold',
      scope: `${SYMBOLS.length} symbols, ${DATE}`,
      ...(await measure(30, () => newLoader().loadSession(DATE, SYMBOLS))),
    },
    {
      case: 'loadSession warm',
      scope: `${SYMBOLS.length} symbols, ${DATE}`,
      ...(await measure(200, () => warmOne.loadSession(DATE, SYMBOLS))),
    },
    {
      case: 'all sessions cold',
      scope: `${SYMBOLS.length} symbols x ${sessions.length} sessions`,
      ...(await measure(10, () => loadAll(newLoader()))),
    },
    {
      case: 'all sessions warm',
      scope: `${SYMBOLS.length} symbols x ${sessions.length} sessions`,
      ...(await measure(50, () => loadAll(warmAll))),
    },
    {
      case: 'loadDaily cold',
      scope: 'SPY 1998-2021 (~5,800 rows)',
      ...(await measure(10, () => newLoader().loadDaily('SPY', '1998-01-01', '2021-12-31'))),
    },
  ];
  return {
    name: 'market-data',
    description:
      'LeanMarketData from local LEAN zips: cold = fresh loader (unzip + parse + validate + align), ' +
      'warm = cached parsed files (align only). Times in ms; no target set, figures for comparison.',
    rows,
  };
}
