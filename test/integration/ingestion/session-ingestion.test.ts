/**
 * Session ingestion end to end against the local fake Alpaca data server (loopback, over the
 * real LEAN files): the session pulled through the Alpaca adapter is stored as a LEAN tree
 * (temp folder) that the LEAN loader reads back to the same bars, quotes and adjusted daily
 * history as the source; the quality report is stored; runs before the close, on a closed
 * day and on an ingested session are skips; a provider fault fails the run.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../functions/adapters/brokers/rate-limiter.js';
import { AlpacaMarketData } from '../../../functions/adapters/market-data/alpaca-market-data.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import {
  FileSystemBlobSink,
  LeanArchive,
  qualityPath,
} from '../../../functions/adapters/market-data/lean-archive.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { TransientError } from '../../../functions/core/errors.js';
import { DEFAULT_QUALITY_RULES } from '../../../functions/core/market/data-quality.js';
import {
  type IngestionConfig,
  ingestSession,
} from '../../../functions/core/use-cases/session-ingestion.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type FakeAlpacaData, startFakeAlpacaData } from '../../../local/fake-alpaca-data.js';
import { DATA_ROOT } from '../../support/paths.js';

const KEYS = { keyId: 'PKINGESTKEY', secretKey: 'ingest-secret-value' };
/** 2013-10-07 closes at 16:00 New York = 20:00Z; the 16:05 slot fires at 20:05Z. */
const AFTER_CLOSE = '2013-10-07T20:05:00Z';

let fake: FakeAlpacaData;
let now = Date.parse(AFTER_CLOSE);
let dir: string;
const source = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));

beforeAll(async () => {
  fake = await startFakeAlpacaData({ dataRoot: DATA_ROOT, ...KEYS, now: () => now });
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-ingest-'));
});
afterAll(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function deps(root: string, config: Partial<IngestionConfig> = {}) {
  const clock = new ManualClock(now);
  const feed = new AlpacaMarketData({
    ...KEYS,
    baseUrl: fake.baseUrl,
    clock,
    sleep: async (ms) => clock.advance(ms),
    random: () => 0.5,
    maxAttempts: 2,
    limiter: new TokenBucket({ clock, sleep: async (ms) => clock.advance(ms) }),
  });
  return {
    feed,
    archive: new LeanArchive(new FileSystemBlobSource(root), new FileSystemBlobSink(root)),
    clock,
    config: {
      symbols: ['SPY', 'AIG'],
      dailyLookbackDays: 550,
      quality: DEFAULT_QUALITY_RULES,
      ...config,
    },
  };
}

const finite = (a: Float64Array) => Array.from(a, (x) => (Number.isNaN(x) ? null : x));

describe('session ingestion from the fake Alpaca data server', () => {
  it('stores the session as a LEAN tree the loader reads back to the source bars and quotes', async () => {
    // Prepare
    now = Date.parse(AFTER_CLOSE);
    const root = path.join(dir, 'roundtrip');

    // Act
    const result = await ingestSession(deps(root), {
      source: 'schedule',
      scheduledTime: AFTER_CLOSE,
    });

    // Assess
    expect(result.skipped).toBe(false);
    if (result.skipped) return;
    expect(result.sessionDate).toBe('2013-10-07');
    expect(result.included).toEqual(['SPY', 'AIG']);
    expect(result.excluded).toEqual([]);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.bytesStored).toBeGreaterThan(0);
    // Per symbol: a stored session aligns each symbol's quotes to its own trade minutes, so a
    // two-symbol load would differ on AIG's one minute without a trade.
    const stored = new LeanMarketData(new FileSystemBlobSource(root));
    for (const symbol of ['SPY', 'AIG']) {
      const got = await stored.loadSession('2013-10-07', [symbol]);
      const want = await source.loadSession('2013-10-07', [symbol]);
      expect(got.timestamps).toEqual(want.timestamps);
      const g = got.series[0];
      const w = want.series[0];
      if (!g || !w) throw new Error('missing series');
      for (const field of ['open', 'high', 'low', 'close', 'volume', 'bid', 'ask'] as const) {
        expect(finite(g[field])).toEqual(finite(w[field]));
      }
    }
    const report = JSON.parse(
      await readFile(path.join(root, qualityPath('equity-usa', '2013-10-07')), 'utf8'),
    ) as { included: string[]; symbols: { symbol: string; missingMinutes: number }[] };
    expect(report.included).toEqual(['SPY', 'AIG']);
    // AIG has 389 of 390 regular-session bars on 2013-10-07 (shared data README).
    expect(report.symbols.find((s) => s.symbol === 'AIG')?.missingMinutes).toBe(1);
  });

  it('ingests the crypto universe for a crypto request (the deployed crypto schedule): the UTC day that ended', async () => {
    // Prepare: the stage's equity and crypto universes; the crypto schedule fires at 00:05 UTC.
    // 2017-09-04 is Labor Day: no NYSE session, a whole crypto day.
    now = Date.parse('2017-09-05T00:05:00Z');
    const root = path.join(dir, 'crypto');
    const both = deps(root, { cryptoSymbols: ['BTCUSD', 'ETHUSD'] });

    // Act
    const result = await ingestSession(both, {
      source: 'schedule',
      scheduledTime: '2017-09-05T00:05:00Z',
      market: 'crypto',
    });

    // Assess: the crypto pairs of 2017-09-04 (a 24 h UTC day), stored where the loader reads them
    expect(result).toMatchObject({ skipped: false, sessionDate: '2017-09-04', market: 'crypto' });
    if (result.skipped) return;
    expect(result.included).toEqual(['BTCUSD', 'ETHUSD']);
    expect(result.excluded).toEqual([]);
    const stored = await new LeanMarketData(new FileSystemBlobSource(root)).loadSession(
      '2017-09-04',
      ['BTCUSD'],
    );
    const want = await source.loadSession('2017-09-04', ['BTCUSD']);
    expect(stored.market).toBe('crypto');
    expect(stored.timestamps).toEqual(want.timestamps);
  });

  it('refuses a crypto request on a stage without crypto pairs, and a universe of another market, naming the field', async () => {
    // Prepare
    now = Date.parse('2018-04-05T00:05:00Z');
    const root = path.join(dir, 'crypto-refused');
    const request = { source: 'schedule', scheduledTime: '2018-04-05T00:05:00Z' };

    // Act + Assess
    await expect(ingestSession(deps(root), { ...request, market: 'crypto' })).rejects.toThrow(
      /ingestion\.cryptoSymbols.*no crypto pair/,
    );
    await expect(
      ingestSession(deps(root, { cryptoSymbols: ['SPY'] }), { ...request, market: 'crypto' }),
    ).rejects.toThrow(/ingestion\.cryptoSymbols.*equity-usa symbols, not crypto/);
  });

  it('excludes a symbol with no trade bar in the session, with the reason named', async () => {
    // Prepare: a backfill of a session the shared data has no minute files for
    now = Date.parse('2009-07-02T00:00:00Z');
    const root = path.join(dir, 'aig-2009');

    // Act
    const result = await ingestSession(deps(root, { symbols: ['AIG'], dailyLookbackDays: 60 }), {
      source: 'cli',
      sessionDate: '2009-07-01',
    });

    // Assess: no minute files exist for 2009 in the shared data, so AIG is excluded, named
    expect(result.skipped).toBe(false);
    if (result.skipped) return;
    expect(result.included).toEqual([]);
    expect(result.excluded).toEqual([
      { symbol: 'AIG', reasons: expect.arrayContaining(['no trade bar in the session']) },
    ]);
  });

  it('writes adjusted daily history that matches the source factor adjustment across a split', async () => {
    // Prepare: ingest a shared session, then compare AIG's adjusted closes around 2009-07-01
    now = Date.parse(AFTER_CLOSE);
    const root = path.join(dir, 'daily');
    await ingestSession(deps(root, { symbols: ['AIG'], dailyLookbackDays: 1700 }), {
      source: 'schedule',
      scheduledTime: AFTER_CLOSE,
    });
    const stored = new LeanMarketData(new FileSystemBlobSource(root));

    // Act
    const got = await stored.loadDailyHistory('AIG', '2009-06-25', '2009-07-08');
    const want = await source.loadDailyHistory('AIG', '2009-06-25', '2009-07-08');

    // Assess: same dates, adjusted closes equal to the cent; no split "return"
    expect(got.adjustment).toBe('split-and-dividend');
    expect(got.bars.map((b) => b.date)).toEqual(want.bars.map((b) => b.date));
    got.bars.forEach((b, i) => {
      expect(b.close).toBeCloseTo(want.bars[i]?.close ?? Number.NaN, 2);
    });
    const before = got.bars.find((b) => b.date === '2009-06-30')?.close ?? 0;
    const after = got.bars.find((b) => b.date === '2009-07-01')?.close ?? 0;
    expect(Math.abs(after / before - 1)).toBeLessThan(0.5);
    const splits = await stored.splits('AIG', '2009-06-30', '2009-07-01');
    expect(splits.map((s) => [s.effectiveDate, Number(s.ratio.toFixed(4))])).toEqual([
      ['2009-07-01', 0.05],
    ]);
  });

  it('skips a run before the close, on a closed day, and on a session already ingested', async () => {
    // Prepare
    const root = path.join(dir, 'skips');
    now = Date.parse('2013-10-07T17:05:00Z'); // 13:05 New York: the early-close slot

    // Act
    const early = await ingestSession(deps(root), {
      source: 'schedule',
      scheduledTime: '2013-10-07T17:05:00Z',
    });
    now = Date.parse('2013-10-05T20:05:00Z');
    const saturday = await ingestSession(deps(root), {
      source: 'schedule',
      scheduledTime: '2013-10-05T20:05:00Z',
    });
    now = Date.parse(AFTER_CLOSE);
    const first = await ingestSession(deps(root), {
      source: 'schedule',
      scheduledTime: AFTER_CLOSE,
    });
    const again = await ingestSession(deps(root), {
      source: 'schedule',
      scheduledTime: AFTER_CLOSE,
    });

    // Assess
    expect(early).toMatchObject({
      skipped: true,
      reason: expect.stringContaining('not closed yet'),
    });
    expect(saturday).toMatchObject({
      skipped: true,
      reason: expect.stringContaining('closed on 2013-10-05'),
    });
    expect(first.skipped).toBe(false);
    expect(again).toMatchObject({
      skipped: true,
      reason: expect.stringContaining('already ingested'),
    });
  });

  it('fails with a TransientError when the provider keeps answering 503, storing nothing', async () => {
    // Prepare
    now = Date.parse(AFTER_CLOSE);
    const root = path.join(dir, 'faults');
    fake.inject({ path: '/v2/stocks/SPY/bars', status: 503, count: 10 });

    // Act
    const run = ingestSession(deps(root), { source: 'schedule', scheduledTime: AFTER_CLOSE });

    // Assess
    await expect(run).rejects.toBeInstanceOf(TransientError);
    const archive = new LeanArchive(new FileSystemBlobSource(root), new FileSystemBlobSink(root));
    expect(await archive.readQualityReport('equity-usa', '2013-10-07')).toBeNull();
  });
});
