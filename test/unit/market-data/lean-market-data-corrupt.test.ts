/**
 * LeanMarketData against throw-away LEAN trees in the OS temp folder: corrupt zips, bad rows,
 * missing quote files and quote rows with an empty side.
 */
import AdmZip from 'adm-zip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { DataFileCorruptError, DataFileMissingError } from '../../../functions/core/errors.js';
import { hm, makeTempLeanRoot, quoteRow, type TempLeanRoot, tradeRow, zipCsv } from './fixtures.js';

const TRADE = 'equity/usa/minute/tst/20131004_trade.zip';
const QUOTE = 'equity/usa/minute/tst/20131004_quote.zip';

describe('LeanMarketData with fixture files', () => {
  let tmp: TempLeanRoot;
  let md: LeanMarketData;

  beforeEach(async () => {
    tmp = await makeTempLeanRoot();
    md = new LeanMarketData(new FileSystemBlobSource(tmp.root));
  });

  afterEach(async () => {
    await tmp.dispose();
  });

  it('throws DataFileCorruptError naming the file when the trade zip is not a zip', async () => {
    // Prepare
    await tmp.write(TRADE, 'this is not a zip archive');
    await tmp.write(QUOTE, zipCsv('q.csv', [quoteRow(hm(9, 30), 10, 10.01)]));

    // Act
    const act = md.loadSession('2013-10-04', ['TST']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DataFileCorruptError);
    await expect(act).rejects.toMatchObject({ path: TRADE });
    await expect(act).rejects.toThrow(/not a readable zip archive/);
  });

  it('throws DataFileCorruptError for a zip with no file inside', async () => {
    // Prepare
    await tmp.write(TRADE, new AdmZip().toBuffer());
    await tmp.write(QUOTE, zipCsv('q.csv', [quoteRow(hm(9, 30), 10, 10.01)]));

    // Act
    const act = md.loadSession('2013-10-04', ['TST']);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'DataFileCorruptError', path: TRADE });
  });

  it.each([
    [
      'a non-numeric price',
      (ms: number) => `${ms},abc,1,1,1,100`,
      /line 3: open is not a finite number/,
    ],
    [
      'a missing column',
      (ms: number) => `${ms},10000,10000,10000,100`,
      /line 3: expected 6 columns, found 5/,
    ],
    [
      'a negative price',
      (ms: number) => `${ms},-10000,10000,10000,10000,100`,
      /line 3: open is negative/,
    ],
    [
      'high below low',
      (ms: number) => `${ms},100000,90000,110000,100000,100`,
      /line 3: high 90000 is below low 110000/,
    ],
    [
      'an empty field',
      (ms: number) => `${ms},100000,,100000,100000,100`,
      /line 3: high is not a finite number/,
    ],
    [
      'a non-finite value',
      (ms: number) => `${ms},Infinity,1,1,1,100`,
      /line 3: open is not a finite number/,
    ],
    [
      'a time past the day',
      () => `86400000,100000,100000,100000,100000,100`,
      /line 3: time .* out of range/,
    ],
  ])('names file and line for %s', async (_what, badRow, message) => {
    // Prepare
    await tmp.write(
      TRADE,
      zipCsv('t.csv', [tradeRow(hm(9, 30), 10), tradeRow(hm(9, 31), 10), badRow(hm(9, 32))]),
    );
    await tmp.write(QUOTE, zipCsv('q.csv', [quoteRow(hm(9, 30), 10, 10.01)]));

    // Act
    const act = md.loadSession('2013-10-04', ['TST']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DataFileCorruptError);
    await expect(act).rejects.toMatchObject({ path: TRADE });
    await expect(act).rejects.toThrow(message);
  });

  it('validates extended-hours rows too, though it drops them', async () => {
    // Prepare
    await tmp.write(TRADE, zipCsv('t.csv', [`${hm(4, 0)},1,1,1,x,1`, tradeRow(hm(9, 30), 10)]));
    await tmp.write(QUOTE, zipCsv('q.csv', [quoteRow(hm(9, 30), 10, 10.01)]));

    // Act
    const act = md.loadSession('2013-10-04', ['TST']);

    // Assess
    await expect(act).rejects.toThrow(/20131004_trade\.zip: line 1: close is not a finite number/);
  });

  it('names the quote file and line for a quote row with 6 columns', async () => {
    // Prepare
    await tmp.write(TRADE, zipCsv('t.csv', [tradeRow(hm(9, 30), 10)]));
    await tmp.write(
      QUOTE,
      zipCsv('q.csv', [quoteRow(hm(9, 30), 10, 10.01), tradeRow(hm(9, 31), 10)]),
    );

    // Act
    const act = md.loadSession('2013-10-04', ['TST']);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'DataFileCorruptError', path: QUOTE });
    await expect(act).rejects.toThrow(/line 2: expected 11 columns, found 6/);
  });

  it('throws DataFileMissingError naming the quote file when it is absent', async () => {
    // Prepare
    await tmp.write(TRADE, zipCsv('t.csv', [tradeRow(hm(9, 30), 10)]));

    // Act
    const act = md.loadSession('2013-10-04', ['TST']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DataFileMissingError);
    await expect(act).rejects.toMatchObject({ path: QUOTE });
  });

  it('reads an empty quote side as NaN and keeps the other side', async () => {
    // Prepare
    await tmp.write(TRADE, zipCsv('t.csv', [tradeRow(hm(9, 30), 10), tradeRow(hm(9, 31), 10.5)]));
    await tmp.write(
      QUOTE,
      zipCsv('q.csv', [
        `${hm(9, 30)},,,,,0,100100,100100,100100,100100,700`,
        quoteRow(hm(9, 31), 10.49, 10.51),
      ]),
    );

    // Act
    const s = await md.loadSession('2013-10-04', ['TST']);

    // Assess
    const tst = s.series[0]!;
    expect(Number.isNaN(tst.bid[0]!)).toBe(true);
    expect(tst.bidSize[0]).toBe(0);
    expect(tst.ask[0]).toBe(10.01);
    expect(tst.askSize[0]).toBe(700);
    expect([tst.bid[1], tst.ask[1]]).toEqual([10.49, 10.51]);
  });

  it('leaves bid/ask NaN for a traded minute with no quote row', async () => {
    // Prepare
    await tmp.write(TRADE, zipCsv('t.csv', [tradeRow(hm(9, 30), 10), tradeRow(hm(9, 31), 10)]));
    await tmp.write(QUOTE, zipCsv('q.csv', [quoteRow(hm(9, 30), 9.99, 10.01)]));

    // Act
    const s = await md.loadSession('2013-10-04', ['TST']);

    // Assess
    const tst = s.series[0]!;
    expect(tst.bid[0]).toBe(9.99);
    expect([tst.bid[1], tst.ask[1], tst.bidSize[1], tst.askSize[1]].every(Number.isNaN)).toBe(true);
  });

  it('names the daily file and line for a bad daily date', async () => {
    // Prepare
    await tmp.write(
      'equity/usa/daily/tst.zip',
      zipCsv('tst.csv', [
        '20131004 00:00,100000,100000,100000,100000,5',
        '20131345 00:00,1,1,1,1,1',
      ]),
    );

    // Act
    const act = md.loadDaily('TST', '2013-01-01', '2013-12-31');

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'DataFileCorruptError',
      path: 'equity/usa/daily/tst.zip',
    });
    await expect(act).rejects.toThrow(/line 2: bad date "20131345 00:00"/);
  });

  it('reads crypto daily files with plain prices', async () => {
    // Prepare
    await tmp.write(
      'crypto/coinbase/daily/xbt_trade.zip',
      zipCsv('xbt.csv', ['20180404 00:00,7424.91,7500,7000,7100.5,1234.5']),
    );

    // Act
    const bars = await md.loadDaily('xbt', '2018-04-01', '2018-04-30');

    // Assess
    expect(bars).toEqual([
      { date: '2018-04-04', open: 7424.91, high: 7500, low: 7000, close: 7100.5, volume: 1234.5 },
    ]);
  });

  it('does not cache a failed read', async () => {
    // Prepare
    await tmp.write(TRADE, zipCsv('t.csv', [tradeRow(hm(9, 30), 10)]));
    await expect(md.loadSession('2013-10-04', ['TST'])).rejects.toBeInstanceOf(
      DataFileMissingError,
    );
    await tmp.write(QUOTE, zipCsv('q.csv', [quoteRow(hm(9, 30), 9.99, 10.01)]));

    // Act
    const s = await md.loadSession('2013-10-04', ['TST']);

    // Assess
    expect(s.series[0]!.ask[0]).toBe(10.01);
  });
});
