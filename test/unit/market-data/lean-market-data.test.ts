/**
 * LeanMarketData against the real LEAN files in ../shared/data/lean (read in place).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { describe, expect, it } from 'vitest';
import {
  type BlobSource,
  FileSystemBlobSource,
} from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import {
  DataFileMissingError,
  NoSessionError,
  UnknownSymbolError,
  ValidationError,
} from '../../../functions/core/errors.js';
import type { SymbolSeries } from '../../../functions/core/market/types.js';
import { LEAN_ROOT } from './fixtures.js';

const iso = (t: number | undefined): string => new Date(t ?? Number.NaN).toISOString();
const countNaN = (a: Float64Array): number => a.filter(Number.isNaN).length;
const byName = (series: readonly SymbolSeries[], symbol: string): SymbolSeries => {
  const s = series.find((x) => x.symbol === symbol);
  if (s === undefined) throw new Error(`no series for ${symbol}`);
  return s;
};

/** A BlobSource that counts reads, to observe the cache. */
class CountingSource implements BlobSource {
  reads = 0;
  private readonly inner = new FileSystemBlobSource(LEAN_ROOT);
  read(relPath: string): Promise<Uint8Array> {
    this.reads++;
    return this.inner.read(relPath);
  }
  list(relDir: string): Promise<string[]> {
    return this.inner.list(relDir);
  }
}

const newLoader = (): LeanMarketData => new LeanMarketData(new FileSystemBlobSource(LEAN_ROOT));

describe('LeanMarketData.loadSession (US equities)', () => {
  it('loads SPY 2013-10-04 as 390 regular-session minutes in USD', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const s = await md.loadSession('2013-10-04', ['SPY']);

    // Assess
    const spy = byName(s.series, 'SPY');
    expect(s.market).toBe('equity-usa');
    expect(s.date).toBe('2013-10-04');
    expect(s.timestamps).toHaveLength(390);
    expect(iso(s.timestamps[0])).toBe('2013-10-04T13:30:00.000Z');
    expect(iso(s.timestamps[389])).toBe('2013-10-04T19:59:00.000Z');
    expect(spy.open[0]).toBe(167.74);
    expect(spy.close[389]).toBe(168.89);
    expect(countNaN(spy.close)).toBe(0);
  });

  it('accepts symbols in any case and returns them upper-case', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const s = await md.loadSession('2013-10-04', ['spy', 'Ibm']);

    // Assess
    expect(s.symbols).toEqual(['SPY', 'IBM']);
    expect(s.series.map((x) => x.symbol)).toEqual(['SPY', 'IBM']);
  });

  it('drops extended-hours rows present in the raw file', async () => {
    // Prepare
    const raw = new AdmZip(
      await readFile(path.join(LEAN_ROOT, 'equity/usa/minute/spy/20131004_trade.zip')),
    );
    const rawMs = raw
      .getEntries()[0]!
      .getData()
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => Number(line.split(',')[0]));
    const md = newLoader();

    // Act
    const s = await md.loadSession('2013-10-04', ['SPY']);

    // Assess
    expect(rawMs.filter((ms) => ms < 34_200_000).length).toBeGreaterThan(0);
    expect(rawMs.filter((ms) => ms >= 57_600_000).length).toBeGreaterThan(0);
    const open = Date.parse('2013-10-04T13:30:00Z');
    const close = Date.parse('2013-10-04T20:00:00Z');
    expect(s.timestamps.every((t) => t >= open && t < close)).toBe(true);
  });

  it('aligns IBM (389 bars) with SPY on 2013-10-04: one NaN minute, volume 0 there', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const alone = await md.loadSession('2013-10-04', ['IBM']);
    const both = await md.loadSession('2013-10-04', ['SPY', 'IBM']);

    // Assess
    expect(alone.timestamps).toHaveLength(389);
    expect(both.timestamps).toHaveLength(390);
    const ibm = byName(both.series, 'IBM');
    expect(countNaN(ibm.close)).toBe(1);
    const gap = ibm.close.findIndex(Number.isNaN);
    expect(ibm.volume[gap]).toBe(0);
    expect(Number.isNaN(ibm.open[gap]!)).toBe(true);
    expect(alone.timestamps).not.toContain(both.timestamps[gap]);
    for (const x of both.series) {
      expect(x.open).toHaveLength(390);
      expect(x.bid).toHaveLength(390);
      expect(x.askSize).toHaveLength(390);
    }
  });

  it('aligns AIG (389 bars) with SPY on 2013-10-07', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const alone = await md.loadSession('2013-10-07', ['AIG']);
    const both = await md.loadSession('2013-10-07', ['SPY', 'AIG']);

    // Assess
    expect(alone.timestamps).toHaveLength(389);
    expect(both.timestamps).toHaveLength(390);
    expect(countNaN(byName(both.series, 'AIG').close)).toBe(1);
  });

  it('fills bid/ask from the quote file in USD, never crossed, mostly bid < ask', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const s = await md.loadSession('2013-10-04', ['SPY']);

    // Assess
    const spy = byName(s.series, 'SPY');
    const quoted = [...spy.bid.keys()].filter(
      (i) => Number.isFinite(spy.bid[i]!) && Number.isFinite(spy.ask[i]!),
    );
    expect(quoted).toHaveLength(390);
    // The real NBBO is locked (bid === ask) in a few minutes of this day, never crossed.
    expect(quoted.filter((i) => spy.bid[i]! < spy.ask[i]!).length).toBeGreaterThan(380);
    for (const i of quoted) {
      expect(spy.bid[i]!).toBeLessThanOrEqual(spy.ask[i]!);
      expect(spy.bid[i]!).toBeGreaterThan(160);
      expect(spy.ask[i]!).toBeLessThan(175);
      expect(spy.bidSize[i]!).toBeGreaterThan(0);
    }
  });

  it('reads each file once and serves repeats from the cache', async () => {
    // Prepare
    const source = new CountingSource();
    const md = new LeanMarketData(source);
    const first = await md.loadSession('2013-10-08', ['SPY', 'BAC']);
    const readsAfterFirst = source.reads;

    // Act
    const second = await md.loadSession('2013-10-08', ['SPY', 'BAC']);

    // Assess
    expect(readsAfterFirst).toBe(4);
    expect(source.reads).toBe(4);
    expect(second.timestamps).toEqual(first.timestamps);
    expect(second.series[0]!.close).not.toBe(first.series[0]!.close);
  });
});

describe('LeanMarketData.loadSession (crypto)', () => {
  it('loads BTCUSD 2018-04-04 as a 24h UTC day with plain prices', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const s = await md.loadSession('2018-04-04', ['btcusd']);

    // Assess
    const btc = byName(s.series, 'BTCUSD');
    expect(s.market).toBe('crypto');
    expect(iso(s.timestamps[0])).toBe('2018-04-04T00:00:00.000Z');
    expect(btc.open[0]).toBe(7424.91);
    expect(s.timestamps.length).toBeGreaterThan(390);
    expect(s.timestamps.every((t) => iso(t).startsWith('2018-04-04'))).toBe(true);
    expect(btc.bid[0]).toBeLessThan(btc.ask[0]!);
  });

  it('throws DataFileMissingError when the quote file is missing (BTCUSD 2018-04-06)', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const act = md.loadSession('2018-04-06', ['BTCUSD']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DataFileMissingError);
    await expect(act).rejects.toMatchObject({
      path: 'crypto/coinbase/minute/btcusd/20180406_quote.zip',
    });
  });
});

describe('LeanMarketData.loadSession errors', () => {
  it('throws UnknownSymbolError listing the known symbols', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const act = md.loadSession('2013-10-04', ['SPY', 'ZZZZ']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(act).rejects.toMatchObject({
      symbol: 'ZZZZ',
      known: ['AIG', 'BAC', 'BTCUSD', 'ETHUSD', 'IBM', 'SPY'],
    });
  });

  it('throws NoSessionError for a Saturday, listing the available dates', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const act = md.loadSession('2013-10-05', ['SPY', 'IBM']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(NoSessionError);
    await expect(act).rejects.toMatchObject({
      date: '2013-10-05',
      available: [
        '2013-10-04',
        '2013-10-07',
        '2013-10-08',
        '2013-10-09',
        '2013-10-10',
        '2013-10-11',
      ],
    });
  });

  it.each(['2013-02-30', '2013/10/04', '20131004', ''])(
    'throws ValidationError(date) for %j',
    async (bad) => {
      // Prepare
      const md = newLoader();

      // Act
      const act = md.loadSession(bad, ['SPY']);

      // Assess
      await expect(act).rejects.toBeInstanceOf(ValidationError);
      await expect(act).rejects.toMatchObject({ field: 'date' });
    },
  );

  it('rejects an empty symbol list, duplicates and mixed markets', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const empty = md.loadSession('2013-10-04', []);
    const dup = md.loadSession('2013-10-04', ['SPY', 'spy']);
    const mixed = md.loadSession('2013-10-04', ['SPY', 'BTCUSD']);

    // Assess
    await expect(empty).rejects.toMatchObject({ name: 'ValidationError', field: 'symbols' });
    await expect(dup).rejects.toMatchObject({ name: 'ValidationError', field: 'symbols' });
    await expect(mixed).rejects.toMatchObject({ name: 'ValidationError', field: 'symbols' });
  });
});

describe('LeanMarketData.listSessions', () => {
  it('lists the six equity sessions, ascending', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const dates = await md.listSessions(['spy', 'bac', 'aig', 'ibm']);

    // Assess
    expect(dates).toEqual([
      '2013-10-04',
      '2013-10-07',
      '2013-10-08',
      '2013-10-09',
      '2013-10-10',
      '2013-10-11',
    ]);
  });

  it('intersects the dates of several crypto symbols', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const dates = await md.listSessions(['BTCUSD', 'ETHUSD']);

    // Assess
    expect(dates).toEqual(['2017-09-03', '2017-09-04', '2018-04-04', '2018-04-05']);
  });

  it('throws UnknownSymbolError for a symbol with no minute folder', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const act = md.listSessions(['QQQ']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(UnknownSymbolError);
  });
});

describe('LeanMarketData.loadDaily', () => {
  it('reads SPY daily bars in USD, first row 1998-01-02 open 97.31', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const bars = await md.loadDaily('spy', '1998-01-01', '1998-01-31');

    // Assess
    expect(bars[0]).toEqual({
      date: '1998-01-02',
      open: 97.31,
      high: 97.53,
      low: 96.53,
      close: 97.36,
      volume: 2_150_000,
    });
    expect(bars.length).toBeGreaterThan(15);
    expect(bars.every((b) => b.date >= '1998-01-01' && b.date <= '1998-01-31')).toBe(true);
    expect(bars.map((b) => b.date)).toEqual([...bars.map((b) => b.date)].sort());
  });

  it('includes both bounds', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const bars = await md.loadDaily('QQQ', '2013-10-04', '2013-10-07');

    // Assess
    expect(bars.map((b) => b.date)).toEqual(['2013-10-04', '2013-10-07']);
  });

  it('throws UnknownSymbolError for a symbol without a daily file', async () => {
    // Prepare: the symbols that have a daily file (equity `{sym}.zip`, crypto
    // `{sym}_trade.zip`), upper-case and sorted, whatever the data folder holds.
    const md = newLoader();
    const equity = (await readdir(path.join(LEAN_ROOT, 'equity/usa/daily')))
      .filter((n) => n.endsWith('.zip'))
      .map((n) => n.slice(0, -'.zip'.length));
    const crypto = (await readdir(path.join(LEAN_ROOT, 'crypto/coinbase/daily')))
      .filter((n) => n.endsWith('_trade.zip'))
      .map((n) => n.slice(0, -'_trade.zip'.length));
    const expected = [...new Set([...equity, ...crypto].map((s) => s.toUpperCase()))].sort();

    // Act
    const act = md.loadDaily('ZZZZ', '2013-01-01', '2013-12-31');

    // Assess: the error lists exactly those symbols (equities and crypto alike)
    await expect(act).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(act).rejects.toMatchObject({ known: expected });
    expect(expected).toEqual(expect.arrayContaining(['SPY', 'BTCUSD']));
  });

  it('throws ValidationError when to is before from, or a bound is not a date', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const reversed = md.loadDaily('SPY', '2013-10-07', '2013-10-04');
    const badFrom = md.loadDaily('SPY', '2013-13-01', '2013-10-04');

    // Assess
    await expect(reversed).rejects.toMatchObject({ name: 'ValidationError', field: 'to' });
    await expect(badFrom).rejects.toMatchObject({ name: 'ValidationError', field: 'from' });
  });
});
