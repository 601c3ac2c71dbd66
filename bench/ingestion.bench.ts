/**
 * Session-ingestion benchmark: one session for 30 symbols pulled from the local fake Alpaca
 * data server (loopback HTTP) through the Alpaca market-data adapter, checked and written as
 * a LEAN tree to a temp folder: wall time, HTTP requests, bytes read and bytes stored.
 *
 * The fake serves a LEAN tree; the shared data has minute files for four equities, so the 30
 * symbols are a temp tree of symbolic links (`S01`..`S30` -> SPY, BAC, AIG, IBM in turn: minute,
 * daily and factor files). Each symbol costs 2 minute requests (bars, quotes) and 3 daily
 * ones (raw, split, all) with 550 days of history. No target: figures for comparison.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlpacaMarketData } from '../functions/adapters/market-data/alpaca-market-data.js';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { FileSystemBlobSink, LeanArchive } from '../functions/adapters/market-data/lean-archive.js';
import { DEFAULT_QUALITY_RULES } from '../functions/core/market/data-quality.js';
import { ingestSession } from '../functions/core/use-cases/session-ingestion.js';
import { startFakeAlpacaData } from '../local/fake-alpaca-data.js';
import type { BenchReport } from './run.js';

const LEAN_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/data/lean',
);
const SOURCES = ['spy', 'bac', 'aig', 'ibm'] as const;
const SYMBOLS = Array.from({ length: 30 }, (_, i) => `S${String(i + 1).padStart(2, '0')}`);
const AFTER_CLOSE = '2013-10-07T20:05:00Z';
const KEYS = { keyId: 'PKBENCH', secretKey: 'bench-secret' };

async function universeTree(dir: string): Promise<void> {
  const usa = path.join(dir, 'equity/usa');
  for (const sub of ['minute', 'daily', 'factor_files'])
    await mkdir(path.join(usa, sub), { recursive: true });
  for (const [i, sym] of SYMBOLS.entries()) {
    const src = SOURCES[i % SOURCES.length] as string;
    const lower = sym.toLowerCase();
    await symlink(path.join(LEAN_ROOT, 'equity/usa/minute', src), path.join(usa, 'minute', lower));
    await symlink(
      path.join(LEAN_ROOT, 'equity/usa/daily', `${src}.zip`),
      path.join(usa, 'daily', `${lower}.zip`),
    );
    await symlink(
      path.join(LEAN_ROOT, 'equity/usa/factor_files', `${src}.csv`),
      path.join(usa, 'factor_files', `${lower}.csv`),
    );
  }
}

export default async function ingestionBench(): Promise<BenchReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-ingest-bench-'));
  const source = path.join(dir, 'source');
  await universeTree(source);
  const now = Date.parse(AFTER_CLOSE);
  const fake = await startFakeAlpacaData({ dataRoot: source, ...KEYS, now: () => now });
  const rows = [];
  try {
    for (let run = 1; run <= 3; run++) {
      const out = path.join(dir, `out-${run}`);
      const clock = { now: () => now };
      const start = performance.now();
      const result = await ingestSession(
        {
          feed: new AlpacaMarketData({ ...KEYS, baseUrl: fake.baseUrl, clock }),
          archive: new LeanArchive(new FileSystemBlobSource(out), new FileSystemBlobSink(out)),
          clock,
          config: { symbols: SYMBOLS, dailyLookbackDays: 550, quality: DEFAULT_QUALITY_RULES },
        },
        { source: 'schedule', scheduledTime: AFTER_CLOSE },
      );
      const ms = performance.now() - start;
      if (result.skipped) throw new Error(`ingestion skipped: ${result.reason}`);
      rows.push({
        case: `run ${run}`,
        scope: `${SYMBOLS.length} symbols, 2013-10-07, fake Alpaca on loopback`,
        wallMs: Math.round(ms),
        requests: result.requests,
        bytesRead: result.bytesRead,
        bytesStored: result.bytesStored,
        included: result.included.length,
      });
    }
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
  return {
    name: 'ingestion',
    description:
      'Session ingestion of one session for 30 symbols from the fake Alpaca data server: wall ms, ' +
      'HTTP requests, response bytes read, bytes stored (LEAN zips, daily and factor files, report).',
    rows,
  };
}
