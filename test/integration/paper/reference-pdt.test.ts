/**
 * The pattern-day-trader rule in the paper session AND its reference simulation, on real data
 * (LEAN minutes of the shared sessions): a $20,000 simulated paper account (under FINRA's
 * $25,000) that already made day trades this week, its broker's PDT protection on as both
 * composition roots set it. The paper session's pre-trade check refuses an opening and the
 * broker refuses the order that would make the fourth day trade; the reference, starting from
 * the same day-trade count, refuses the same orders, so paper PnL (the broker's fills) equals
 * the reference PnL to the cent. Without the rule in the reference the two differ (the test
 * can fail).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { newYorkTimeMs } from '../../../functions/core/calendar/market-calendar.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { FINRA_PDT_RULE } from '../../../functions/core/exchange/day-trades.js';
import { DEFAULT_ACCOUNT_LIMITS } from '../../../functions/core/paper/account.js';
import type { PaperSessionState } from '../../../functions/core/paper/paper-session.js';
import {
  parityRecord,
  type ReferenceExchangeConfig,
  runReferenceSession,
} from '../../../functions/core/paper/reference.js';
import { tickPaperSession } from '../../../functions/core/use-cases/paper-session.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { paperTickRunner } from '../../support/paper-tick.js';
import { DATA_ROOT } from '../../support/paths.js';
import { cohortGenomes } from '../../support/shared-session.js';

const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });
const EXCHANGE: ReferenceExchangeConfig = {
  participationFraction: 1,
  latencyMs: 1_000,
  costs,
  fractionalShares: true,
  buyingPowerMultiplier: 1,
  patternDayTrader: FINRA_PDT_RULE,
};
const cents = (usd: number) => Math.round(usd * 100);

let marketData: LeanMarketData;

beforeAll(() => {
  marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
});

/** The genomes of a seeded cohort on `date`, most trades first. */
async function activeGenomes(date: string, seed: number) {
  const session = await marketData.loadSession(date, SYMBOLS);
  return cohortGenomes(session, {
    cohortId: `c-${date}`,
    symbols: SYMBOLS,
    seed,
    tradedOnly: true,
  });
}

/**
 * A $20,000 simulated paper account (PDT protection on) that made `dayTrades` round trips of
 * one SPY share on `before` (a business day in the window of the session's date).
 */
async function accountWithDayTrades(before: string, dayTrades: number) {
  const clock = new ManualClock(newYorkTimeMs(before, '10:00'));
  const broker = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
    clock,
    config: { ...EXCHANGE, startingCashUsd: 20_000 },
  });
  for (let k = 0; k < dayTrades; k++) {
    for (const [side, minute] of [
      ['buy', 0],
      ['sell', 10],
    ] as const) {
      clock.set(newYorkTimeMs(before, `1${k}:${String(minute).padStart(2, '0')}`));
      await broker.submitOrder({
        clientOrderId: `seed-${k}-${side}`,
        symbol: 'SPY',
        side,
        qty: 1,
        type: 'market',
        timeInForce: 'day',
      });
      clock.advance(2 * 60_000);
      expect((await broker.getOrderByClientOrderId(`seed-${k}-${side}`))?.status).toBe('filled');
    }
  }
  expect((await broker.getAccount()).dayTradeCount).toBe(dayTrades);
  return { broker, clock };
}

/**
 * One paper session of `genome` on 2013-10-08 through the use case's tick, on an account with
 * `dayTrades` day trades made on 2013-10-07, with or without the session's account-level
 * pre-trade check; returns the session and its starting state.
 */
async function paperSession(
  dayTrades: number,
  genome: PaperSessionState['genome'],
  id: string,
  accountCheck: boolean,
) {
  const { broker, clock } = await accountWithDayTrades('2013-10-07', dayTrades);
  const open = (await marketData.loadSession(DATE, ['SPY'])).timestamps[0] as number;
  const fixture = paperSessionFixture({ promotionId: id, genome, date: DATE, openMs: open, costs });
  clock.set(fixture.startedAtMs);
  const account = await broker.getAccount();
  const start: PaperSessionState = {
    ...fixture,
    capitalUsd: 1_000,
    accountCashUsd: account.cashUsd,
    accountDayTradeCount: account.dayTradeCount ?? null,
    limits: {
      ...fixture.limits,
      maxOrderNotionalUsd: 10_000,
      ...(accountCheck ? { account: DEFAULT_ACCOUNT_LIMITS } : {}),
    },
  };
  const { deps } = paperTickRunner({ clock, broker, marketData, brokerAccount: 'pdt' });
  let paper = start;
  while (!paper.done) {
    const out = await tickPaperSession(deps, { state: paper });
    paper = out.state;
    clock.set(clock.now() + out.waitSeconds * 1_000);
  }
  return { paper, start, positions: await broker.listPositions() };
}

const DATE = '2013-10-08';
const filled = (s: PaperSessionState) => s.orders.filter((o) => o.filledQty > 0);

describe('the pattern-day-trader rule in the paper session and its reference (a $20,000 account)', () => {
  it('with 2 day trades: one round trip, then the pre-trade check refuses entries in both; PnL equal to the cent', async () => {
    // Prepare
    const genome = (await activeGenomes(DATE, 11))[0] as PaperSessionState['genome'];

    // Act
    const { paper, start } = await paperSession(2, genome, 'PPDTREF1', true);
    const reference = await runReferenceSession(marketData, start, EXCHANGE);
    const parity = parityRecord(paper, reference.state, reference.session, 0);

    // Assess: the rule was hit (one round trip made, later entries refused) ...
    expect(filled(paper).length).toBeGreaterThanOrEqual(2);
    const refused = (s: PaperSessionState) =>
      s.orders
        .filter((o) => o.rejectReason?.startsWith('pre-trade: pattern-day-trader limit'))
        .map((o) => o.clientOrderId);
    expect(refused(paper).length).toBeGreaterThan(0);
    // ... the same way in the reference, order by order, and the PnL agree to the cent
    expect(refused(reference.state)).toEqual(refused(paper));
    const key = (o: PaperSessionState['orders'][number]) =>
      [o.clientOrderId, o.side, o.qty, o.status, o.filledQty].join('|');
    expect(paper.orders.map(key)).toEqual(reference.state.orders.map(key));
    expect(cents(parity.paperPnlUsd)).toBe(cents(parity.referencePnlUsd));
    expect(cents(parity.differenceUsd)).toBe(0);

    // The reference without the account's day trades makes more round trips: parity breaks
    const blind = await runReferenceSession(
      marketData,
      { ...start, accountDayTradeCount: 0 },
      EXCHANGE,
    );
    expect(filled(blind.state).length).toBeGreaterThan(filled(paper).length);
    expect(cents(parityRecord(paper, blind.state, blind.session, 0).differenceUsd)).not.toBe(0);
  }, 300_000);

  it('with 3 day trades and no session pre-trade check: the broker refuses the exit that would make a 4th, in both; PnL equal to the cent', async () => {
    // Prepare
    const genome = (await activeGenomes(DATE, 11))[0] as PaperSessionState['genome'];

    // Act
    const { paper, start, positions } = await paperSession(3, genome, 'PPDTREF2', false);
    const reference = await runReferenceSession(marketData, start, EXCHANGE);
    const parity = parityRecord(paper, reference.state, reference.session, 0);

    // Assess: the entry filled; every later order (the exit, the close flatten) was refused
    // by the broker's PDT protection, so the position is still held after the close
    const byBroker = (s: PaperSessionState) =>
      s.orders.filter((o) => o.rejectReason?.includes(': pattern day trader protection: '));
    expect(filled(paper).length).toBe(1);
    expect(byBroker(paper).length).toBeGreaterThan(0);
    expect(byBroker(paper).some((o) => o.reason === 'flatten')).toBe(true);
    expect(positions.length).toBe(1);
    expect(byBroker(reference.state).map((o) => o.clientOrderId)).toEqual(
      byBroker(paper).map((o) => o.clientOrderId),
    );
    expect(cents(parity.paperPnlUsd)).toBe(cents(parity.referencePnlUsd));
    expect(cents(parity.differenceUsd)).toBe(0);

    // The reference without the broker's rule exits and flattens: parity breaks
    const blind = await runReferenceSession(marketData, start, {
      ...EXCHANGE,
      patternDayTrader: null,
    });
    expect(filled(blind.state).length).toBeGreaterThan(1);
    expect(cents(parityRecord(paper, blind.state, blind.session, 0).differenceUsd)).not.toBe(0);
  }, 300_000);
});
