/**
 * Contract tests of the Alpaca market-data adapter against the local fake Alpaca data server
 * (loopback, started here) over the real LEAN files: pagination, 429 back-off, 5xx retries,
 * an empty session, a symbol unknown to Alpaca, crypto endpoints, "nothing after now".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../functions/adapters/brokers/rate-limiter.js';
import { AlpacaMarketData } from '../../../functions/adapters/market-data/alpaca-market-data.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import {
  BrokerAuthError,
  NoSessionError,
  TransientError,
  UnknownSymbolError,
} from '../../../functions/core/errors.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type FakeAlpacaData, startFakeAlpacaData } from '../../../local/fake-alpaca-data.js';
import { DATA_ROOT } from '../../support/paths.js';

const KEYS = { keyId: 'PKTESTKEYID', secretKey: 'test-secret-value' };
/** A simulated now long after the shared sessions. */
const LATER = Date.parse('2020-01-01T00:00:00Z');

let fake: FakeAlpacaData;
let now = LATER;
const lean = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));

beforeAll(async () => {
  fake = await startFakeAlpacaData({ dataRoot: DATA_ROOT, ...KEYS, now: () => now });
});
afterAll(async () => {
  await fake.close();
});

function adapter(overrides: { pageLimit?: number; keyId?: string } = {}) {
  const clock = new ManualClock(now);
  const slept: number[] = [];
  const md = new AlpacaMarketData({
    ...KEYS,
    keyId: overrides.keyId ?? KEYS.keyId,
    baseUrl: fake.baseUrl,
    pageLimit: overrides.pageLimit ?? 10_000,
    clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock.advance(ms);
    },
    random: () => 0.5,
    limiter: new TokenBucket({ clock, sleep: async (ms) => clock.advance(ms) }),
  });
  return { md, slept, clock };
}

const sameValues = (a: Float64Array, b: Float64Array) =>
  expect(Array.from(a, (x) => (Number.isNaN(x) ? null : x))).toEqual(
    Array.from(b, (x) => (Number.isNaN(x) ? null : x)),
  );

describe('AlpacaMarketData against the fake Alpaca data server', () => {
  it('pages through a session (page_token) and rebuilds the same minute bars and quotes as the LEAN files', async () => {
    // Prepare: 100 rows a page, so SPY's 390 minutes take 4 bar pages and 4 quote pages
    now = LATER;
    const { md } = adapter({ pageLimit: 100 });
    const before = fake.requests.length;

    // Act
    const session = await md.loadSession('2013-10-07', ['SPY']);
    const expected = await lean.loadSession('2013-10-07', ['SPY']);

    // Assess
    const reqs = fake.requests.slice(before);
    expect(reqs.filter((r) => r.path === '/v2/stocks/SPY/bars')).toHaveLength(4);
    expect(reqs.filter((r) => r.path === '/v2/stocks/SPY/quotes')).toHaveLength(4);
    expect(reqs.filter((r) => r.query.page_token !== undefined)).toHaveLength(6);
    expect(reqs.every((r) => r.query.feed === 'iex')).toBe(true);
    expect(reqs.find((r) => r.path.endsWith('/bars'))?.query.adjustment).toBe('raw');
    expect(session.market).toBe('equity-usa');
    expect(Array.from(session.timestamps)).toEqual(Array.from(expected.timestamps));
    const [got, want] = [session.series[0], expected.series[0]];
    if (!got || !want) throw new Error('missing series');
    sameValues(got.close, want.close);
    sameValues(got.volume, want.volume);
    sameValues(got.bid, want.bid);
    sameValues(got.ask, want.ask);
  });

  it('backs off on 429 until X-RateLimit-Reset, blocking the shared limiter, then succeeds', async () => {
    // Prepare
    now = LATER;
    const { md, slept, clock } = adapter();
    const reset = Math.floor(clock.now() / 1000) + 7;
    fake.inject({
      path: '/v2/stocks/IBM/bars',
      status: 429,
      headers: { 'X-RateLimit-Reset': String(reset) },
      body: '{"code":42910000,"message":"rate limit exceeded"}',
    });

    // Act
    const session = await md.loadSession('2013-10-07', ['IBM']);

    // Assess
    expect(session.timestamps.length).toBeGreaterThan(380);
    expect(md.stats.rateLimited).toBe(1);
    expect(slept).toContain(7000);
  });

  it('retries 5xx with backoff and gives up with a TransientError after maxAttempts', async () => {
    // Prepare
    now = LATER;
    const { md } = adapter();
    fake.inject({ path: '/v2/stocks/BAC/bars', status: 503, count: 2 });

    // Act
    const ok = await md.loadSession('2013-10-07', ['BAC']);
    fake.inject({ path: '/v2/stocks/BAC/quotes', status: 500, count: 10 });
    const failed = md.loadSession('2013-10-08', ['BAC']);

    // Assess
    expect(ok.timestamps.length).toBeGreaterThan(380);
    await expect(failed).rejects.toBeInstanceOf(TransientError);
    await expect(failed).rejects.toThrow(/after 4 attempts/);
    fake.requests.length = 0;
  });

  it('reports an empty session (a trading day with no bars) as NoSessionError', async () => {
    // Prepare: 2013-10-14 is an NYSE session that the data tree does not have
    now = LATER;
    const { md } = adapter();

    // Act
    const act = md.loadSession('2013-10-14', ['SPY']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(NoSessionError);
  });

  it('maps a symbol unknown to Alpaca (422 invalid symbol) to UnknownSymbolError', async () => {
    // Prepare
    now = LATER;
    const { md } = adapter();

    // Act
    const act = md.loadSession('2013-10-07', ['ZZZZ']);

    // Assess
    await expect(act).rejects.toBeInstanceOf(UnknownSymbolError);
  });

  it('refuses bad keys with BrokerAuthError, never echoing the key', async () => {
    // Prepare
    const { md } = adapter({ keyId: 'PKWRONGKEY' });

    // Act
    const err = await md.loadSession('2013-10-07', ['SPY']).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(BrokerAuthError);
    expect(String((err as Error).message)).not.toContain('PKWRONGKEY');
    expect(String((err as Error).message)).not.toContain(KEYS.secretKey);
  });

  it('serves nothing after the simulated now: up to 10:00 New York only complete minutes', async () => {
    // Prepare: 10:00 EDT on 2013-10-08
    now = Date.parse('2013-10-08T14:00:00Z');
    const { md } = adapter();
    fake.requests.length = 0;

    // Act
    const partial = await md.loadSessionUpTo('2013-10-08', ['SPY'], now);
    const latest = await md.latestBar('SPY');

    // Assess: 09:30..09:59 = 30 minutes, the last one started at 09:59 and ended at 10:00
    expect(partial.timestamps.length).toBe(30);
    expect(partial.timestamps.at(-1)).toBe(Date.parse('2013-10-08T13:59:00Z'));
    expect(latest?.t).toBe('2013-10-08T13:59:00.000Z');
    for (const r of fake.requests) {
      if (r.latestMs !== null) expect(r.latestMs).toBeLessThanOrEqual(now);
    }
  });

  it('reads a crypto session through the crypto endpoint (BTC/USD, 24 h UTC day)', async () => {
    // Prepare
    now = LATER;
    const { md } = adapter();
    fake.requests.length = 0;

    // Act
    const session = await md.loadSession('2017-09-03', ['BTCUSD']);
    const expected = await lean.loadSession('2017-09-03', ['BTCUSD']);

    // Assess
    expect(session.market).toBe('crypto');
    expect(
      fake.requests.some(
        (r) => r.path === '/v1beta3/crypto/us/bars' && r.query.symbols === 'BTC/USD',
      ),
    ).toBe(true);
    expect(Array.from(session.timestamps)).toEqual(Array.from(expected.timestamps));
    expect(session.timestamps[0]).toBeGreaterThanOrEqual(Date.parse('2017-09-03T00:00:00Z'));
    expect(session.timestamps.at(-1)).toBeLessThan(Date.parse('2017-09-04T00:00:00Z'));
  });

  it('serves the crypto bars of a day with a trade file but no quote file (BTCUSD 2018-04-05/06), no 500', async () => {
    // Prepare: 2018-04-06 has btcusd 20180406_trade.zip and no quote file.
    now = LATER;
    fake.requests.length = 0;
    const url = new URL(`${fake.baseUrl}/v1beta3/crypto/us/bars`);
    url.searchParams.set('symbols', 'BTC/USD');
    url.searchParams.set('timeframe', '1Min');
    url.searchParams.set('start', '2018-04-05T23:00:00Z');
    url.searchParams.set('end', '2018-04-06T01:00:00Z');
    url.searchParams.set('limit', '10000');
    const trades = await lean.loadSession('2018-04-05', ['BTCUSD']);

    // Act
    const res = await fetch(url, {
      headers: { 'APCA-API-KEY-ID': KEYS.keyId, 'APCA-API-SECRET-KEY': KEYS.secretKey },
    });
    const body = (await res.json()) as { bars: Record<string, { t: string; c: number }[]> };

    // Assess
    expect(res.status).toBe(200);
    const bars = body.bars['BTC/USD'] ?? [];
    const day6 = bars.filter((b) => b.t >= '2018-04-06');
    const day5 = bars.filter((b) => b.t < '2018-04-06');
    // The day before (trade and quote files) as the LEAN session has it; the next day from
    // its trade file alone, up to the requested end.
    const lastHour = Array.from(trades.timestamps).filter(
      (t, i) =>
        t >= Date.parse('2018-04-05T23:00:00Z') &&
        !Number.isNaN(trades.series[0]?.close[i] ?? Number.NaN),
    );
    expect(day5.map((b) => Date.parse(b.t))).toEqual(lastHour);
    expect(day6.length).toBeGreaterThan(30);
    expect(day6.every((b) => b.t < '2018-04-06T01:01:00Z' && b.c > 0)).toBe(true);
  });

  it('asks for adjustment=all for daily history: AIG 2009-07-01 has no split jump', async () => {
    // Prepare
    now = LATER;
    const { md } = adapter();

    // Act
    const raw = await md.loadDaily('AIG', '2009-06-29', '2009-07-02');
    const history = await md.loadDailyHistory('AIG', '2009-06-29', '2009-07-02');
    const splits = await md.splits('AIG', '2009-06-29', '2009-07-02');

    // Assess
    const jump = (b: readonly { close: number }[]) => (b[2]?.close ?? 0) / (b[1]?.close ?? 1) - 1;
    expect(raw.map((b) => b.date)).toEqual([
      '2009-06-29',
      '2009-06-30',
      '2009-07-01',
      '2009-07-02',
    ]);
    expect(jump(raw)).toBeGreaterThan(10);
    expect(history.adjustment).toBe('split-and-dividend');
    expect(Math.abs(jump(history.bars))).toBeLessThan(0.5);
    expect(splits).toHaveLength(1);
    expect(splits[0]?.effectiveDate).toBe('2009-07-01');
    expect(splits[0]?.ratio).toBeCloseTo(1 / 20, 9);
  });
});
