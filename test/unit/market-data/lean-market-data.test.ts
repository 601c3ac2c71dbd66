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
  DataFolderMissingError,
  NoDailyHistoryError,
  NoSessionError,
  UnknownSymbolError,
  ValidationError,
} from '../../../functions/core/errors.js';
import type { SymbolSeries } from '../../../functions/core/market/types.js';
import { hm, LEAN_ROOT, makeTempLeanRoot, quoteRow, tradeRow, zipCsv } from './fixtures.js';

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

/**
 * The rule for "known": every symbol with a daily file (equity `{sym}.zip`, crypto
 * `{sym}_trade.zip`) or a minute folder, upper-case and sorted, whatever the folder holds.
 */
async function symbolsWithData(): Promise<string[]> {
  const names = async (dir: string, suffix?: string) =>
    (await readdir(path.join(LEAN_ROOT, dir)))
      .filter((n) => suffix === undefined || n.endsWith(suffix))
      .map((n) => (suffix === undefined ? n : n.slice(0, -suffix.length)));
  const all = [
    ...(await names('equity/usa/daily', '.zip')),
    ...(await names('crypto/coinbase/daily', '_trade.zip')),
    ...(await names('equity/usa/minute')),
    ...(await names('crypto/coinbase/minute')),
  ];
  return [...new Set(all.map((s) => s.toUpperCase()))].sort();
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
    await expect(act).rejects.toMatchObject({ symbol: 'ZZZZ', known: await symbolsWithData() });
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

  it('throws NoSessionError (not unknown) for a symbol with a daily file but no minute folder', async () => {
    // Prepare: QQQ has daily bars only in the shared data
    const md = newLoader();

    // Act
    const dailyOnly = md.listSessions(['QQQ']);
    const none = md.listSessions(['ZZZZ']);

    // Assess
    await expect(dailyOnly).rejects.toBeInstanceOf(NoSessionError);
    await expect(dailyOnly).rejects.toThrow(/QQQ/);
    await expect(none).rejects.toBeInstanceOf(UnknownSymbolError);
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

  it('throws UnknownSymbolError for a symbol with no data, listing every symbol with data', async () => {
    // Prepare
    const md = newLoader();
    const expected = await symbolsWithData();

    // Act
    const act = md.loadDaily('ZZZZ', '2013-01-01', '2013-12-31');

    // Assess: the error lists exactly those symbols (equities and crypto alike)
    await expect(act).rejects.toBeInstanceOf(UnknownSymbolError);
    await expect(act).rejects.toMatchObject({ known: expected });
    expect(expected).toEqual(expect.arrayContaining(['SPY', 'BTCUSD', 'ETHUSD']));
  });

  it('names the missing daily file and what needs it for a symbol with minute data only', async () => {
    // Prepare: ETHUSD has minute days but no daily file in the shared data
    const md = newLoader();

    // Act
    const act = md.loadDaily('ethusd', '2018-01-01', '2018-04-04');

    // Assess: not "unknown symbol"
    await expect(act).rejects.toBeInstanceOf(NoDailyHistoryError);
    await expect(act).rejects.toMatchObject({
      symbol: 'ETHUSD',
      path: 'crypto/coinbase/daily/ethusd_trade.zip',
    });
    await expect(act).rejects.toThrow(/VaR\/ES risk gates/);
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

describe('LeanMarketData: missing data folder', () => {
  it('names the folder instead of calling the symbol unknown', async () => {
    // Prepare
    const missing = path.join(LEAN_ROOT, 'no-such-folder');
    const md = new LeanMarketData(new FileSystemBlobSource(missing));

    // Act
    const act = md.loadSession('2013-10-07', ['SPY']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DataFolderMissingError);
    await expect(act).rejects.toMatchObject({ folder: missing });
    await expect(act).rejects.toThrow(missing);
  });
});

describe('LeanMarketData.loadDailyHistory (corporate actions)', () => {
  it('AIG 2009-07-01 1-for-20 reverse split: the raw jump is gone from the adjusted history', async () => {
    // Prepare: raw closes 1.13 (06-30) and 18.08 (07-01) in the real daily file
    const md = newLoader();

    // Act
    const raw = await md.loadDaily('AIG', '2009-06-29', '2009-07-02');
    const adjusted = await md.loadDailyHistory('AIG', '2009-06-29', '2009-07-02');

    // Assess: raw "return" +1,500 %; adjusted on today's share basis (06-30 × 20 × price
    // factor of its row), the split day's return is the market's, about −20 %
    const ret = (bars: readonly { close: number }[], i: number) =>
      (bars[i]!.close as number) / (bars[i - 1]!.close as number) - 1;
    expect(raw.map((b) => b.date)).toEqual([
      '2009-06-29',
      '2009-06-30',
      '2009-07-01',
      '2009-07-02',
    ]);
    expect(ret(raw, 2)).toBeGreaterThan(10);
    expect(adjusted.adjustment).toBe('split-and-dividend');
    expect(adjusted.unadjustedReason).toBeNull();
    expect(adjusted.bars[1]!.close).toBeCloseTo(1.13 * 20 * 0.7048563, 6);
    expect(adjusted.bars[2]!.close).toBeCloseTo(18.08 * 0.7048563, 6);
    expect(ret(adjusted.bars, 2)).toBeCloseTo(18.08 / (1.13 * 20) - 1, 9);
    for (let i = 1; i < adjusted.bars.length; i++) {
      expect(Math.abs(ret(adjusted.bars, i))).toBeLessThan(0.5);
    }
  });

  it('lists the reverse split as one event of ratio 1/20 effective 2009-07-01', async () => {
    // Prepare
    const md = newLoader();

    // Act
    const across = await md.splits('AIG', '2009-06-30', '2009-07-01');
    const before = await md.splits('AIG', '2009-06-01', '2009-06-30');
    const after = await md.splits('AIG', '2009-07-01', '2009-12-31');

    // Assess
    expect(across).toEqual([{ symbol: 'AIG', effectiveDate: '2009-07-01', ratio: 1 / 20 }]);
    expect(before).toEqual([]);
    expect(after).toEqual([]);
  });

  it('reports a symbol without factor data as unadjusted, naming why', async () => {
    // Prepare: crypto has no factor files
    const md = newLoader();

    // Act
    const btc = await md.loadDailyHistory('BTCUSD', '2017-09-01', '2017-09-10');

    // Assess
    expect(btc.adjustment).toBe('unadjusted');
    expect(btc.unadjustedReason).toMatch(/crypto market has no corporate-action factor files/);
    expect(btc.bars.length).toBeGreaterThan(5);
  });

  it('names the missing factor file of an equity', async () => {
    // Prepare: a LEAN tree with a daily file and no factor file
    const tmp = await makeTempLeanRoot();
    try {
      await tmp.write(
        'equity/usa/daily/xyz.zip',
        zipCsv('xyz.csv', ['20131004 00:00,10000,10000,10000,10000,5']),
      );
      const md = new LeanMarketData(new FileSystemBlobSource(tmp.root));

      // Act
      const h = await md.loadDailyHistory('XYZ', '2013-10-01', '2013-10-31');

      // Assess
      expect(h.adjustment).toBe('unadjusted');
      expect(h.unadjustedReason).toContain('equity/usa/factor_files/xyz.csv');
      expect(h.bars.map((b) => b.close)).toEqual([1]);
    } finally {
      await tmp.dispose();
    }
  });
});

describe('LeanMarketData over a tree the session ingestion grows', () => {
  it("re-reads the listings and the rewritten daily and factor files when a new session's files land", async () => {
    // Prepare: one session of XYZ with its daily row; the loader reads it (and caches)
    const tmp = await makeTempLeanRoot();
    try {
      const session = async (yyyymmdd: string, usd: number) => {
        await tmp.write(
          `equity/usa/minute/xyz/${yyyymmdd}_trade.zip`,
          zipCsv(`${yyyymmdd}_xyz_minute_trade.csv`, [tradeRow(hm(9, 30), usd)]),
        );
        await tmp.write(
          `equity/usa/minute/xyz/${yyyymmdd}_quote.zip`,
          zipCsv(`${yyyymmdd}_xyz_minute_quote.csv`, [quoteRow(hm(9, 30), usd - 0.01, usd)]),
        );
      };
      const daily = (rows: readonly string[]) =>
        tmp.write('equity/usa/daily/xyz.zip', zipCsv('xyz.csv', rows));
      await session('20131007', 10);
      await daily(['20131007 00:00,100000,100000,100000,100000,5']);
      const md = new LeanMarketData(new FileSystemBlobSource(tmp.root));
      expect(await md.listSessions(['XYZ'])).toEqual(['2013-10-07']);
      expect((await md.loadDaily('XYZ', '2013-10-01', '2013-10-31')).length).toBe(1);

      // Act: the next session lands, with the daily file rewritten
      await session('20131008', 11);
      await daily([
        '20131007 00:00,100000,100000,100000,100000,5',
        '20131008 00:00,110000,110000,110000,110000,5',
      ]);
      const next = await md.loadSession('2013-10-08', ['XYZ']);

      // Assess
      expect(next.series[0]?.close[0]).toBe(11);
      expect(await md.listSessions(['XYZ'])).toEqual(['2013-10-07', '2013-10-08']);
      expect((await md.loadDaily('XYZ', '2013-10-01', '2013-10-31')).map((b) => b.close)).toEqual([
        10, 11,
      ]);
    } finally {
      await tmp.dispose();
    }
  });
});
