/**
 * The Alpaca paper adapter against a local fake of the Alpaca Trading API (loopback HTTP,
 * `test/support/fake-alpaca/server.ts`): idempotent submits, 429 / 5xx / timeout handling,
 * error mapping, and that secrets never leak into errors. Backoff and 429 waits go through an
 * injected sleep that advances a manual clock, and the client timeout is delivered by an
 * injected fetch, so no test waits for real or races a timer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALPACA_PAPER_BASE_URL,
  AlpacaPaperBroker,
  type AlpacaPaperBrokerOptions,
} from '../../../functions/adapters/brokers/alpaca-paper-broker.js';
import {
  sharedRateLimiter,
  TokenBucket,
} from '../../../functions/adapters/brokers/rate-limiter.js';
import {
  BrokerAuthError,
  BrokerRejectedError,
  BrokerUnavailableError,
  NotFoundError,
  ValidationError,
} from '../../../functions/core/errors.js';
import type { BrokerOrderRequest } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import {
  type FakeAlpaca,
  type FakeAlpacaOptions,
  startFakeAlpaca,
} from '../../support/fake-alpaca/server.js';
import { startFakeAlpacaBroker } from '../../support/shared-session.js';

const KEY_ID = 'PKTESTKEYID0000000001';
const SECRET = 'sEcReT-value-that-must-never-leak-9f3a';
const T0 = Date.UTC(2024, 0, 2, 15, 0);

let fake: FakeAlpaca | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

interface Harness {
  readonly fake: FakeAlpaca;
  readonly broker: AlpacaPaperBroker;
  readonly clock: ManualClock;
  /** Every sleep the adapter asked for, ms. */
  readonly sleeps: number[];
}

async function harness(
  fakeOptions: Partial<FakeAlpacaOptions> = {},
  brokerOptions: Partial<AlpacaPaperBrokerOptions> = {},
): Promise<Harness> {
  const clock = new ManualClock(T0);
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  const started = await startFakeAlpacaBroker({
    keyId: KEY_ID,
    secretKey: SECRET,
    clock,
    sleep,
    timeoutMs: 2_000,
    fake: fakeOptions,
    broker: brokerOptions,
  });
  fake = started.fake;
  const broker = started.broker;
  return { fake: started.fake, broker, clock, sleeps };
}

const order = (overrides: Partial<BrokerOrderRequest> = {}): BrokerOrderRequest => ({
  clientOrderId: 'sg_alpaca_1',
  symbol: 'SPY',
  side: 'buy',
  qty: 2.5,
  type: 'market',
  timeInForce: 'day',
  ...overrides,
});

async function caught(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

function expectNoSecret(err: Error): void {
  const text = `${err.message} ${String(err.stack)} ${String((err.cause as Error | undefined)?.message)}`;
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(KEY_ID);
}

describe('AlpacaPaperBroker against the fake Alpaca API', () => {
  it('submits with the documented body and headers, then follows the order to filled', async () => {
    // Prepare: new on the 1st and 2nd read (the list is a read), filled on the 3rd
    const h = await harness({ prices: { SPY: 420 }, statusSchedule: ['new', 'new', 'filled'] });

    // Act
    const { order: submitted, duplicate } = await h.broker.submitOrder(order());
    const first = await h.broker.getOrderByClientOrderId('sg_alpaca_1');
    const open = await h.broker.listOpenOrders();
    const filled = await h.broker.getOrderByClientOrderId('sg_alpaca_1');
    const positions = await h.broker.listPositions();
    const account = await h.broker.getAccount();

    // Assess
    const post = h.fake.requests.find((r) => r.method === 'POST');
    expect(post?.body).toEqual({
      symbol: 'SPY',
      qty: '2.5',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: 'sg_alpaca_1',
    });
    expect(post?.headers['apca-api-key-id']).toBe(KEY_ID);
    expect(post?.headers['apca-api-secret-key']).toBe(SECRET);
    expect(duplicate).toBe(false);
    expect(submitted).toMatchObject({ status: 'accepted', qty: 2.5, filledQty: 0, feesUsd: 0 });
    expect(submitted.filledAvgPriceUsd).toBeNull();
    expect(first?.status).toBe('new');
    expect(open.map((o) => o.clientOrderId)).toEqual(['sg_alpaca_1']);
    expect(filled).toMatchObject({ status: 'filled', filledQty: 2.5, filledAvgPriceUsd: 420 });
    expect(positions).toEqual([
      { symbol: 'SPY', qty: 2.5, avgEntryPriceUsd: 420, marketPriceUsd: 420 },
    ]);
    expect(account.cashUsd).toBeCloseTo(100_000 - 1_050, 9);
    expect(account.equityUsd).toBeCloseTo(100_000, 9);
  });

  it('a duplicate client_order_id returns the existing order and creates none at the server', async () => {
    // Prepare
    const h = await harness();
    const first = await h.broker.submitOrder(order());

    // Act
    const second = await h.broker.submitOrder(order());

    // Assess
    expect(second.duplicate).toBe(true);
    expect(second.order.brokerOrderId).toBe(first.order.brokerOrderId);
    expect(h.fake.orders()).toHaveLength(1);
    expect(h.fake.count('POST', '/v2/orders')).toBe(2);
    expect(h.fake.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([
      200, 422,
    ]);
  });

  it('429 with Retry-After: waits the header, then succeeds', async () => {
    // Prepare
    const h = await harness();
    h.fake.inject({
      method: 'POST',
      path: '/v2/orders',
      status: 429,
      headers: { 'Retry-After': '3' },
    });

    // Act
    const { order: submitted } = await h.broker.submitOrder(order());

    // Assess
    expect(submitted.status).toBe('accepted');
    expect(h.sleeps).toEqual([3_000]);
    expect(h.fake.count('POST', '/v2/orders')).toBe(2);
    expect(h.fake.orders()).toHaveLength(1);
  });

  it('429 with X-RateLimit-Reset: waits until the reset epoch second', async () => {
    // Prepare
    const h = await harness();
    const resetSec = Math.ceil(T0 / 1000) + 7;
    h.fake.inject({
      method: 'GET',
      path: '/v2/account',
      status: 429,
      headers: { 'X-RateLimit-Reset': String(resetSec), 'X-RateLimit-Remaining': '0' },
    });

    // Act
    const account = await h.broker.getAccount();

    // Assess
    expect(account.cashUsd).toBe(100_000);
    expect(h.sleeps).toEqual([resetSec * 1000 - T0]);
    expect(h.clock.now()).toBeGreaterThanOrEqual(resetSec * 1000);
  });

  it('a burst beyond the server limit is throttled by its headers and then served', async () => {
    // Prepare: the server allows 2 requests per minute
    const h = await harness({ rateLimit: { limit: 2, windowMs: 60_000 } });

    // Act
    await h.broker.getAccount();
    await h.broker.listPositions();
    const third = await h.broker.listOpenOrders();

    // Assess
    expect(third).toEqual([]);
    expect(h.fake.requests.map((r) => r.status)).toEqual([200, 200, 429, 200]);
    expect(h.sleeps).toEqual([Math.ceil((T0 + 60_000) / 1000) * 1000 - T0]);
  });

  it('403 insufficient buying power: BrokerRejectedError, no retry', async () => {
    // Prepare
    const h = await harness({ cashUsd: 100 });

    // Act
    const err = await caught(h.broker.submitOrder(order({ qty: 5 })));

    // Assess
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect(err).toMatchObject({
      clientOrderId: 'sg_alpaca_1',
      reason: 'insufficient buying power',
      httpStatus: 403,
    });
    expect(h.fake.count('POST', '/v2/orders')).toBe(1);
    expect(h.fake.requests).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
  });

  it('422 invalid order: BrokerRejectedError with the server message, no retry', async () => {
    // Prepare
    const h = await harness();

    // Act
    const err = await caught(
      h.broker.submitOrder(order({ type: 'limit', limitPriceUsd: undefined })),
    );

    // Assess
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect((err as BrokerRejectedError).httpStatus).toBe(422);
    expect((err as BrokerRejectedError).reason).toMatch(/limit_price/);
    expect(h.fake.requests).toHaveLength(1);
  });

  it('500 then a timeout: looks the order up before each re-submit; one order at the server', async () => {
    // Prepare: POST #1 answers 500 (not processed); POST #2 is processed by the server but its
    // answer is lost to the client's timeout. The timeout is delivered by the injected fetch
    // (the AbortSignal's TimeoutError), not raced against a real timer: every other request
    // has a generous deadline.
    let posts = 0;
    const timingOut: typeof fetch = async (input, init) => {
      const res = await globalThis.fetch(input, init);
      if (init?.method === 'POST' && String(input).endsWith('/v2/orders') && ++posts === 2) {
        await res.text(); // the server has processed the order
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      }
      return res;
    };
    const h = await harness({}, { timeoutMs: 30_000, fetch: timingOut });
    h.fake.inject({ method: 'POST', path: '/v2/orders', status: 500 });

    // Act
    const result = await h.broker.submitOrder(order());

    // Assess
    expect(result.duplicate).toBe(false);
    expect(result.order.clientOrderId).toBe('sg_alpaca_1');
    expect(h.fake.orders()).toHaveLength(1);
    expect(h.fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v2/orders',
      'GET /v2/orders:by_client_order_id',
      'POST /v2/orders',
      'GET /v2/orders:by_client_order_id',
    ]);
    expect(h.fake.requests.map((r) => r.status).slice(0, 2)).toEqual([500, 404]);
    expect(h.sleeps).toEqual([100, 200]);
  });

  it('keeps failing with 5xx: BrokerUnavailableError (retryable) after the bounded attempts', async () => {
    // Prepare
    const h = await harness({}, { maxAttempts: 3 });
    h.fake.inject(
      { method: 'GET', path: '/v2/positions', status: 503 },
      { method: 'GET', path: '/v2/positions', status: 500 },
      { method: 'GET', path: '/v2/positions', status: 502 },
    );

    // Act
    const err = await caught(h.broker.listPositions());

    // Assess
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as BrokerUnavailableError).retryable).toBe(true);
    expect(h.fake.count('GET', '/v2/positions')).toBe(3);
    expectNoSecret(err);
  });

  it('401: BrokerAuthError, never retried, secrets absent from the message', async () => {
    // Prepare
    const h = await harness();
    const wrong = new AlpacaPaperBroker({
      keyId: KEY_ID,
      secretKey: `${SECRET}-wrong`,
      baseUrl: h.fake.url,
      rateLimiter: new TokenBucket({ clock: h.clock }),
      sleep: async () => {},
    });

    // Act
    const submitErr = await caught(wrong.submitOrder(order()));
    const accountErr = await caught(wrong.getAccount());

    // Assess
    expect(submitErr).toBeInstanceOf(BrokerAuthError);
    expect(accountErr).toBeInstanceOf(BrokerAuthError);
    expect(h.fake.requests.map((r) => r.status)).toEqual([401, 401]);
    expect(h.fake.orders()).toHaveLength(0);
    expectNoSecret(submitErr);
    expectNoSecret(accountErr);
  });

  it('redacts a secret the server echoes back in an error message', async () => {
    // Prepare
    const h = await harness();
    h.fake.inject({
      method: 'POST',
      path: '/v2/orders',
      status: 422,
      body: JSON.stringify({ code: 40010001, message: `bad header ${SECRET} for ${KEY_ID}` }),
    });

    // Act
    const err = await caught(h.broker.submitOrder(order()));

    // Assess
    expect(err).toBeInstanceOf(BrokerRejectedError);
    expect(err.message).toContain('[redacted]');
    expectNoSecret(err);
  });

  it('cancels an open order; returns a filled one unchanged; unknown ids are NotFoundError', async () => {
    // Prepare
    const h = await harness({ statusSchedule: ['new', 'new', 'filled'] });
    await h.broker.submitOrder(order());
    await h.broker.submitOrder(order({ clientOrderId: 'sg_alpaca_2' }));
    await h.broker.getOrderByClientOrderId('sg_alpaca_2');
    await h.broker.getOrderByClientOrderId('sg_alpaca_2');

    // Act
    const canceled = await h.broker.cancelOrder('sg_alpaca_1');
    const filled = await h.broker.cancelOrder('sg_alpaca_2');
    const missing = await caught(h.broker.cancelOrder('sg_nope'));

    // Assess
    expect(canceled.status).toBe('canceled');
    expect(filled.status).toBe('filled');
    expect(h.fake.count('DELETE', `/v2/orders/${canceled.brokerOrderId}`)).toBe(1);
    expect(h.fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it('shares one token bucket between instances using the same key', async () => {
    // Prepare
    const keyId = `PKSHARED${Date.now()}`;
    fake = await startFakeAlpaca({ keyId, secretKey: SECRET });
    const clock = new ManualClock(T0);
    const url = fake.url;
    const make = () => new AlpacaPaperBroker({ keyId, secretKey: SECRET, baseUrl: url, clock });

    // Act
    await make().getAccount();
    await make().getAccount();

    // Assess: 200 tokens, two taken, no refill (the clock did not move)
    expect(sharedRateLimiter(keyId).available()).toBe(198);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('AlpacaPaperBroker construction', () => {
  it('refuses the live endpoint and any non-paper host, without echoing secrets', () => {
    // Prepare
    const make = (baseUrl: string) => () =>
      new AlpacaPaperBroker({ keyId: KEY_ID, secretKey: SECRET, baseUrl });

    // Act / Assess
    for (const url of [
      'https://api.alpaca.markets',
      'https://api.alpaca.markets/',
      'https://example.com',
      `https://user:${SECRET}@paper-api.alpaca.markets`,
      'http://paper-api.alpaca.markets',
    ]) {
      let err: unknown;
      try {
        make(url)();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('baseUrl');
      expectNoSecret(err as Error);
    }
    expect(() => make('https://api.alpaca.markets')()).toThrow(/live trading endpoint/);
    expect(make(ALPACA_PAPER_BASE_URL)().baseUrl).toBe(ALPACA_PAPER_BASE_URL);
  });

  it('requires both keys', () => {
    // Act / Assess
    expect(() => new AlpacaPaperBroker({ keyId: '', secretKey: SECRET })).toThrow(ValidationError);
    expect(() => new AlpacaPaperBroker({ keyId: KEY_ID, secretKey: ' ' })).toThrow(ValidationError);
  });
});

describe('AlpacaPaperBroker without a server', () => {
  it('a refused connection is retried, then BrokerUnavailableError naming the cause', async () => {
    // Prepare: a port nobody listens on
    const closed = await startFakeAlpaca({ keyId: KEY_ID, secretKey: SECRET });
    const url = closed.url;
    await closed.close();
    const clock = new ManualClock(T0);
    const sleeps: number[] = [];
    const broker = new AlpacaPaperBroker({
      keyId: KEY_ID,
      secretKey: SECRET,
      baseUrl: url,
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 1,
      maxAttempts: 3,
      rateLimiter: new TokenBucket({ clock }),
    });

    // Act
    const err = await caught(broker.submitOrder(order()));

    // Assess: attempts 2 and 3 each waited the full-jitter ceiling (200, 400 ms)
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(sleeps).toEqual([200, 400]);
    expectNoSecret(err);
  });
});
