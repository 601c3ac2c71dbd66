/**
 * The live path's market data during a session (`LiveSessionMarketData`), against the fake
 * Alpaca data server over the real LEAN files: before the ingestion stored today's session, a
 * promotion at its window (10:00 New York; 01:00 UTC for crypto) reads today's bars so far
 * from Alpaca, never one after the clock's now; closed sessions and histories come from the
 * stored tree only (a past session it lacks is not fetched).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaMarketData } from '../../../functions/adapters/market-data/alpaca-market-data.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { LiveSessionMarketData } from '../../../functions/adapters/market-data/live-session-market-data.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type FakeAlpacaData, startFakeAlpacaData } from '../../../local/fake-alpaca-data.js';
import { DATA_ROOT } from '../../support/paths.js';

const MINUTE_MS = 60_000;
const keys = { keyId: 'PKTESTLIVESESSION', secretKey: 'test-secret-live-session' };

let dir: string;
let fake: FakeAlpacaData;
let clock: ManualClock;
let data: LiveSessionMarketData;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-live-session-'));
  clock = new ManualClock(Date.parse('2013-10-08T14:00:00Z'));
  fake = await startFakeAlpacaData({ dataRoot: DATA_ROOT, ...keys, now: () => clock.now() });
  // The stored tree: what the ingestion wrote so far (nothing yet in this test).
  const stored = new LeanMarketData(new FileSystemBlobSource(dir));
  const live = new AlpacaMarketData({
    ...keys,
    baseUrl: fake.baseUrl,
    clock,
    sleep: async () => {},
  });
  data = new LiveSessionMarketData(stored, live, clock);
}, 60_000);

afterAll(async () => {
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every row the fake served ended by the simulated now of its request. */
function expectNothingAfterNow(): void {
  const served = fake.requests.filter((r) => r.status === 200 && r.rows > 0);
  expect(served.length).toBeGreaterThan(0);
  for (const r of served) {
    const minuteBars = r.path.endsWith('/bars') && r.query.timeframe !== '1Day';
    expect((r.latestMs as number) + (minuteBars ? MINUTE_MS : 0)).toBeLessThanOrEqual(r.nowMs);
  }
}

describe('the session in progress from the live feed', () => {
  it('gives a 10:00 New York promotion the bars of 09:30-09:59, none after now', async () => {
    clock.set(Date.parse('2013-10-08T14:00:00Z'));
    const session = await data.loadSession('2013-10-08', ['SPY']);
    expect(session.market).toBe('equity-usa');
    expect(session.timestamps[0]).toBe(Date.parse('2013-10-08T13:30:00Z'));
    expect(session.timestamps.at(-1)).toBe(Date.parse('2013-10-08T13:59:00Z'));
    expect(session.timestamps.length).toBeLessThanOrEqual(30);
    expect(session.timestamps.length).toBeGreaterThan(25);
    expect(await data.listSessions(['SPY'])).toContain('2013-10-08');
    expectNothingAfterNow();
  });

  it('grows with the clock: at 11:00 the session holds the bars up to 10:59', async () => {
    clock.set(Date.parse('2013-10-08T15:00:00Z'));
    const session = await data.loadSessionUpTo('2013-10-08', ['SPY'], clock.now());
    expect(session.timestamps.at(-1)).toBe(Date.parse('2013-10-08T14:59:00Z'));
    // A request for a later cut is still held to the clock's now.
    const ahead = await data.loadSessionUpTo('2013-10-08', ['SPY'], clock.now() + 3_600_000);
    expect(ahead.timestamps.at(-1)).toBe(Date.parse('2013-10-08T14:59:00Z'));
    expectNothingAfterNow();
  });

  it('runs on the crypto calendar: at 01:00 UTC the UTC day so far', async () => {
    clock.set(Date.parse('2018-04-04T01:00:00Z'));
    const session = await data.loadSession('2018-04-04', ['BTCUSD']);
    expect(session.market).toBe('crypto');
    expect(session.timestamps[0]).toBeGreaterThanOrEqual(Date.parse('2018-04-04T00:00:00Z'));
    expect(session.timestamps.at(-1)).toBeLessThanOrEqual(Date.parse('2018-04-04T00:59:00Z'));
    expect(session.timestamps.length).toBeGreaterThan(30);
    expectNothingAfterNow();
  });

  it('never fetches a past session the store lacks, nor one that has not opened', async () => {
    clock.set(Date.parse('2013-10-08T14:00:00Z'));
    const before = fake.requests.length;
    await expect(data.loadSession('2013-10-07', ['SPY'])).rejects.toThrow();
    // 08:00 New York: today's session has not opened yet.
    clock.set(Date.parse('2013-10-08T12:00:00Z'));
    await expect(data.loadSession('2013-10-08', ['SPY'])).rejects.toThrow();
    expect(await data.listSessions(['SPY'])).not.toContain('2013-10-08');
    expect(fake.requests.length).toBe(before);
  });
});
