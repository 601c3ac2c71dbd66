/**
 * The tick's risk checks read the session's cash as its account is charged
 * (`sessionCashUsd`: the book's cash less the day's regulatory-fee rounding), not the book's
 * raw cash: the daily loss stop (`paperTick`) and the micro-live slice's rollback monitor
 * (`watchSlice` in `tickPaperSession`). One tick of the use case through the simulated paper
 * broker on a real shared session, from a hand-priced book on the edge of each limit: a USD
 * 100 session that bought 1 share at 100.00 and sold it at 95.02 (Alpaca's rates: the buy's CAT
 * fee 0.000046; the sale's SEC fee 95.02 × 0.0000278, TAF 0.000166, CAT 0.000046) holds 95.0171
 * in its book, a 4.98 % loss; the day's charge of each fee type rounds up to the cent (0.03 in
 * all), so the account keeps 94.99, a 5.01 % loss. The same book without fees by type (nothing
 * to round) stays inside both limits: the tests can fail.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import type { RegulatoryFees } from '../../../functions/core/cohort/fill-model.js';
import {
  type PaperSessionState,
  sessionBook,
  sessionCashUsd,
} from '../../../functions/core/paper/paper-session.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../../functions/core/rollback/monitor.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { paperTickRunner, payloadsOf, testSimulatedBroker } from '../../support/paper-tick.js';
import { loadSharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let marketData: LeanMarketData;
let genome: PaperSessionState['genome'];
let openMs: number;

beforeAll(async () => {
  const shared = await loadSharedSession(DATE, SYMBOLS, 'c-session-cash');
  ({ marketData, openMs } = shared);
  genome = shared.genomes[0] as PaperSessionState['genome'];
});

const BUY_FEES: RegulatoryFees = { secUsd: 0, tafUsd: 0, catUsd: 0.000046 };
const SELL_FEES: RegulatoryFees = { secUsd: 95.02 * 0.0000278, tafUsd: 0.000166, catUsd: 0.000046 };
const total = (f: RegulatoryFees) => f.secUsd + f.tafUsd + f.catUsd;

/**
 * A USD 100 session of the day's busiest genome, its window open 30 minutes, that made the
 * round trip of the module comment (fees by type as the broker reported them, or none).
 */
function roundTripSession(
  limits: Partial<PaperSessionState['limits']>,
  byType: boolean,
): PaperSessionState {
  const s = paperSessionFixture({ promotionId: 'PCASH0001', genome, date: DATE, openMs, costs });
  const order = (side: 'buy' | 'sell', priceUsd: number, fees: RegulatoryFees, minute: number) => {
    const atMs = s.windowOpenMs + minute * 60_000;
    return {
      clientOrderId: `PCASH0001-${side}`,
      symbol: s.symbol,
      side,
      qty: 1,
      reason: 'signal' as const,
      decidedAtMs: atMs,
      submittedAtMs: atMs,
      status: 'filled' as const,
      filledQty: 1,
      avgPriceUsd: priceUsd,
      feesUsd: total(fees),
      ...(byType ? { regulatoryFeesUsd: fees } : {}),
      updatedAtIso: new Date(atMs + 1_000).toISOString(),
    };
  };
  return {
    ...s,
    orders: [order('buy', 100, BUY_FEES, 1), order('sell', 95.02, SELL_FEES, 10)],
    limits: { ...s.limits, ...limits },
  };
}

/** One tick of `state` through the use case, 30 minutes into the window (flat: nothing to send). */
async function tickOnce(state: PaperSessionState) {
  const clock = new ManualClock(state.windowOpenMs + 30 * 60_000 + 1_000);
  const broker = testSimulatedBroker({
    clock,
    marketData,
    startingCashUsd: 100_000,
    buyingPowerMultiplier: 2,
  });
  const statuses: string[] = [];
  const promotions = { setStatus: async (_id: string, status: string) => statuses.push(status) };
  const h = paperTickRunner({ clock, broker, marketData, deps: { promotions } });
  return { state: await h.step(state), records: h.audit.records(), statuses };
}

describe('the book of the module comment', () => {
  it('holds 95.0171 USD; the account keeps 94.99 USD that day', () => {
    // Act
    const state = roundTripSession({}, true);

    // Assess
    const accrued = total(BUY_FEES) + total(SELL_FEES);
    expect(sessionBook(state).cashUsd).toBeCloseTo(100 - 100 + 95.02 - accrued, 12);
    expect(sessionBook(state).cashUsd).toBeCloseTo(95.0171, 4);
    expect(sessionCashUsd(state)).toBeCloseTo(94.99, 9);
    expect(sessionCashUsd(roundTripSession({}, false))).toBeCloseTo(95.0171, 4);
  });
});

describe('the daily loss stop reads the cash the account keeps (sessionCashUsd)', () => {
  it('a 5 % stop: 94.99 USD is below the 95.00 floor, so the tick halts and flattens', async () => {
    // Act
    const { state } = await tickOnce(roundTripSession({ dailyLossStopFraction: 0.05 }, true));

    // Assess
    expect(state.halt).toEqual({
      mode: 'flatten',
      reason: 'daily loss stop: equity 94.99 USD below 95.00 USD',
    });
  });

  it('control: the same book without fees by type (95.0171 USD) trades on', async () => {
    // Act
    const { state } = await tickOnce(roundTripSession({ dailyLossStopFraction: 0.05 }, false));

    // Assess
    expect(state.halt).toBeNull();
  });
});

describe("the slice's rollback monitor reads the cash the account keeps (sessionCashUsd)", () => {
  const rollback = { ...DEFAULT_ROLLBACK_CONFIG, backtestReturnVariance: 1 };

  it('a 5 % drawdown limit: 94.99 USD is a 5.01 % drawdown, so the slice rolls back, recorded', async () => {
    // Act
    const { state, records, statuses } = await tickOnce(roundTripSession({ rollback }, true));

    // Assess
    expect(state.slice?.equityCurveUsd).toEqual([100, expect.closeTo(94.99, 9)]);
    const rollbacks = payloadsOf(records, 'rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({ trigger: 'drawdown', source: 'broker', position_qty: 0 });
    expect(rollbacks[0]?.equity_usd).toBeCloseTo(94.99, 9);
    expect(rollbacks[0]?.drawdown_fraction).toBeCloseTo(0.0501, 9);
    expect(state.halt?.mode).toBe('flatten');
    expect(state.halt?.reason).toMatch(/^rollback: drawdown /);
    expect(statuses).toEqual(['halted']);
  });

  it('control: the same book without fees by type (a 4.98 % drawdown) holds', async () => {
    // Act
    const { state, records, statuses } = await tickOnce(roundTripSession({ rollback }, false));

    // Assess
    expect(state.slice?.equityCurveUsd).toEqual([100, expect.closeTo(95.0171, 4)]);
    expect(payloadsOf(records, 'rollback')).toEqual([]);
    expect(state.halt).toBeNull();
    expect(statuses).toEqual([]);
  });
});
