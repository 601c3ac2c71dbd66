/**
 * The NYSE calendar against real data: the LEAN daily bars of SPY, AIG, BAC and IBM (read in
 * place from ../shared/data/lean) have a bar on exactly the dates the calendar says the NYSE
 * was open, 2000-01-03..2021-03-31 (holidays, observance rules, Good Friday and the one-off
 * closures of 2001, 2004, 2007, 2012 and 2018 included). Reads files, touches no network.
 */
import { describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { tradingDaysBetween } from '../../../functions/core/calendar/market-calendar.js';
import { DATA_ROOT } from '../../support/paths.js';

const FROM = '2000-01-01';
const TO = '2021-03-31';

describe('NYSE calendar vs real daily bars', () => {
  it.each(['SPY', 'AIG', 'BAC', 'IBM'])(
    '%s has a daily bar on every session and no other day',
    async (symbol) => {
      // Prepare
      const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
      const bars = await marketData.loadDaily(symbol, FROM, TO);

      // Act
      const sessions = tradingDaysBetween(FROM, TO, 'equity-usa');

      // Assess
      expect(bars.map((b) => b.date)).toEqual(sessions);
    },
  );

  it('counts every minute-data session of the shared data as a trading day', async () => {
    // Prepare
    const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));

    // Act
    const minuteSessions = await marketData.listSessions(['SPY', 'BAC', 'AIG', 'IBM']);

    // Assess
    expect(minuteSessions.length).toBeGreaterThan(0);
    expect(tradingDaysBetween('2013-10-01', '2013-10-31', 'equity-usa')).toEqual(
      expect.arrayContaining([...minuteSessions]),
    );
  });
});
