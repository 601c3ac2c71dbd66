/**
 * A crypto paper session on the Alpaca paper adapter against the fake Alpaca on loopback
 * (which refuses a crypto order that is not `gtc`/`ioc` with Alpaca's answer, 422 "invalid
 * crypto time_in_force"): the session ticks (`tickPaperSession`) over the last two hours of
 * the real BTCUSD UTC day 2018-04-05, its orders fill slowly (10 % a read), so orders are
 * still open at 00:00 UTC. Every order goes out `gtc`; the first tick after the close cancels
 * what is still open and the audit trail records it; nothing of the session is left open at
 * the broker.
 *
 * One manual clock drives the fake, the adapter's sleeps and the session: nothing waits for
 * real time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import {
  newPaperSession,
  type PaperSessionState,
} from '../../../functions/core/paper/paper-session.js';
import {
  fakeAlpacaSession,
  type Payload,
  payloadsOf,
  SLOW_FILLS,
} from '../../support/paper-tick.js';
import { type CloseSeries, loadSharedSession } from '../../support/shared-session.js';

const DATE = '2018-04-05';
const SYMBOL = 'BTCUSD';
const KEY_ID = 'PKTESTKEYID0000000031';
const SECRET = 'fake-secret-for-crypto-session-tests';
const WINDOW_OPEN_MS = Date.parse(`${DATE}T22:00:00Z`);
const CLOSE_MS = Date.parse('2018-04-06T00:00:00Z');

let marketData: LeanMarketData;
let genomes: PaperSessionState['genome'][];
let closes: Map<string, CloseSeries>;

beforeAll(async () => {
  ({ marketData, closes, genomes } = await loadSharedSession(DATE, [SYMBOL], 'c-crypto-tif'));
}, 120_000);

/** The crypto session's state before its first tick: $100 on a $100,000 paper account. */
function cryptoSession(genome: PaperSessionState['genome']): PaperSessionState {
  return newPaperSession({
    promotionId: 'PCRYPTOTIF1',
    genome,
    market: 'crypto',
    date: DATE,
    capitalUsd: 100,
    windowOpenMs: WINDOW_OPEN_MS,
    closeMs: CLOSE_MS,
    startedAtMs: WINDOW_OPEN_MS,
    accountCashUsd: 100_000,
    limits: {
      leverageCap: 2,
      maxAggregateExposure: 1,
      costs: parseCohortConfig({ bankrollUsd: 1_000 }),
      fractionalShares: true,
      maxOrderNotionalUsd: 1_000,
      dailyLossStopFraction: 0.5,
      maxBarAgeSeconds: 300,
    },
  });
}

async function runSession(genome: PaperSessionState['genome']) {
  // Every order fills slowly: orders are still open at 00:00 UTC
  const h = await fakeAlpacaSession({
    keyId: KEY_ID,
    secretKey: SECRET,
    startMs: WINDOW_OPEN_MS,
    marketData,
    closes,
    fake: SLOW_FILLS,
  });
  let state = cryptoSession(genome);
  let openAtClose: string[] = [];
  while (!state.done) {
    if (h.clock.now() >= CLOSE_MS && openAtClose.length === 0) {
      openAtClose = state.orders
        .filter((o) => !isTerminalOrderStatus(o.status))
        .map((o) => o.clientOrderId);
    }
    state = await h.tick(state);
  }
  return { state, fake: h.fake, broker: h.broker, audit: h.audit, openAtClose };
}

describe('a crypto paper session on Alpaca paper (fake Alpaca on loopback)', () => {
  it('sends every order gtc, cancels what is open at 00:00 UTC, records the cancels, leaves nothing open', async () => {
    // Prepare: the busiest genome of a seeded BTCUSD cohort on the day
    const genome = genomes[0] as PaperSessionState['genome'];

    // Act: tick from 22:00 UTC to the end of the session
    const { state, fake: server, broker, audit, openAtClose } = await runSession(genome);

    // Assess: orders were sent, every one gtc, none refused by the broker
    const posts = server.requests.filter((r) => r.method === 'POST' && r.path === '/v2/orders');
    expect(posts.length).toBeGreaterThan(1);
    for (const r of posts) expect((r.body as Payload).time_in_force).toBe('gtc');
    expect(posts.every((r) => r.status === 200)).toBe(true);
    expect(state.orders.filter((o) => o.status === 'rejected')).toEqual([]);

    // Assess: some orders were still open at the close, and the close tick canceled them
    expect(openAtClose.length).toBeGreaterThan(0);
    const decisions = payloadsOf(audit.records(), 'paper_decision');
    const closing = decisions.find((d) => d.reason === 'session closed: open orders canceled');
    expect(closing?.canceled).toEqual(expect.arrayContaining(openAtClose));
    expect(Date.parse(closing?.at_iso)).toBeGreaterThanOrEqual(CLOSE_MS);
    for (const id of openAtClose) {
      expect(server.orders().find((o) => o.clientOrderId === id)?.status).toBe('canceled');
    }

    // Assess: nothing of the session is open at the broker or in its state
    expect(await broker.listOpenOrders()).toEqual([]);
    expect(state.orders.filter((o) => !isTerminalOrderStatus(o.status))).toEqual([]);
  }, 300_000);
});
