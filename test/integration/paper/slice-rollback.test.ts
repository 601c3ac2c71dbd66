/**
 * The micro-live slice's rollback monitor inside its paper session (`tickPaperSession` with
 * `limits.rollback`), against the Alpaca paper adapter and the fake Alpaca server on loopback:
 * the slice is valued at the BROKER (its fills as the broker reported them, its position at
 * the broker's `current_price`), never at the simulator's marks. A drawdown of the broker
 * equity rolls the slice back (flatten, demotion, `rollback` record) while the market data
 * the simulator reads shows nothing wrong; a broker whose positions cannot be read rolls it
 * back too (fail closed), recorded.
 *
 * One manual clock drives the session, the fake and the adapter's sleeps.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import type { PaperSessionState } from '../../../functions/core/paper/paper-session.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../../functions/core/rollback/monitor.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { fakeAlpacaSession, payloadsOf as ofKind, positionOf } from '../../support/paper-tick.js';
import { type CloseSeries, closeAt, loadSharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const KEY_ID = 'PKTESTKEYID0000000012';
const SECRET = 'fake-secret-for-slice-rollback-tests';
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let marketData: LeanMarketData;
let genome: PaperSessionState['genome'];
let openMs: number;
let closes: Map<string, CloseSeries>;

beforeAll(async () => {
  const shared = await loadSharedSession(DATE, SYMBOLS, 'c-slice');
  ({ marketData, openMs, closes } = shared);
  genome = shared.genomes[0] as PaperSessionState['genome'];
});

/**
 * A slice session at the fake Alpaca; the broker's price is the data's close times
 * `shock.factor` (1: the broker agrees with the data).
 */
async function harness() {
  const shock = { factor: 1 };
  const statuses: { promotionId: string; status: string; reason: string }[] = [];
  const promotions = {
    setStatus: async (promotionId: string, status: string, reason: string) => {
      statuses.push({ promotionId, status, reason });
    },
  };
  const h = await fakeAlpacaSession({
    keyId: KEY_ID,
    secretKey: SECRET,
    startMs: openMs + 30 * 60_000,
    marketData,
    closes,
    priceOf: (symbol, nowMs) => closeAt(closes, symbol, nowMs) * shock.factor,
    deps: { promotions },
  });
  const fixture = paperSessionFixture({
    promotionId: 'PSLICE01',
    genome,
    date: DATE,
    openMs,
    costs,
  });
  // A variance yardstick so large the variance ratio never trips: the drawdown decides.
  const state: PaperSessionState = {
    ...fixture,
    limits: {
      ...fixture.limits,
      rollback: { ...DEFAULT_ROLLBACK_CONFIG, backtestReturnVariance: 1 },
    },
  };
  return { ...h, statuses, shock, state };
}

describe('micro-live slice rollback on the broker equity', () => {
  it('a drawdown of the equity at the broker rolls the slice back, though the market data shows none', async () => {
    // Prepare: trade until the slice holds a position with nothing open
    const h = await harness();
    let s = await h.runUntil(
      h.state,
      (x) =>
        Math.abs(positionOf(x)) > 1e-9 && x.orders.every((o) => isTerminalOrderStatus(o.status)),
    );
    const held = positionOf(s);
    expect(held).not.toBe(0);
    expect(ofKind(h.audit.records(), 'rollback')).toEqual([]);
    expect(s.slice?.equityCurveUsd.length).toBeGreaterThan(1);
    expect(s.slice?.equityCurveUsd[0]).toBe(s.capitalUsd);

    // Act: the broker's price moves 60 % against the position; the LEAN data does not
    h.shock.factor = held > 0 ? 0.4 : 1.6;
    s = await h.tick(s);

    // Assess: rolled back on the broker's valuation, demoted, halted to flatten
    const [rollback, ...more] = ofKind(h.audit.records(), 'rollback');
    expect(more).toEqual([]);
    expect(rollback).toMatchObject({
      trigger: 'drawdown',
      source: 'broker',
      halt_mode: 'flatten',
      position_qty: held,
      broker: 'alpaca-paper',
    });
    expect(rollback?.equity_usd).toBeLessThan(s.capitalUsd * (1 - 0.05));
    expect(rollback?.drawdown_fraction).toBeGreaterThan(0.05);
    expect(s.halt).toMatchObject({ mode: 'flatten' });
    expect(s.halt?.reason).toMatch(/^rollback: drawdown/);
    expect(s.slice?.rolledBackAtIso).toBe(new Date(h.clock.now() - 60_000).toISOString());
    expect(h.statuses).toEqual([
      { promotionId: 'PSLICE01', status: 'halted', reason: s.halt?.reason },
    ]);

    // Act: the session goes on to the close
    const sentBefore = s.orders.length;
    s = await h.runUntil(s, () => false);

    // Assess: one flatten, nothing else sent, flat at the broker, no second rollback
    const after = s.orders.slice(sentBefore);
    expect(after.map((o) => o.reason)).toEqual(['flatten']);
    expect(positionOf(s)).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
    expect(ofKind(h.audit.records(), 'rollback')).toHaveLength(1);
  }, 300_000);

  it('a broker whose positions cannot be read rolls the slice back (fail closed), recorded', async () => {
    // Prepare: a few ticks into the window
    const h = await harness();
    let s = await h.runUntil(h.state, (x) => (x.slice?.equityCurveUsd.length ?? 0) >= 3);
    expect(ofKind(h.audit.records(), 'rollback')).toEqual([]);
    // Every attempt of the adapter's next positions read fails (4 attempts)
    const fault = { method: 'GET', path: '/v2/positions', status: 500 } as const;
    h.fake.inject(fault, fault, fault, fault);

    // Act
    s = await h.tick(s);

    // Assess
    const rollbacks = ofKind(h.audit.records(), 'rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      trigger: 'broker_unreadable',
      source: 'broker',
      equity_usd: null,
      halt_mode: 'flatten',
    });
    expect(rollbacks[0]?.reason).toMatch(/^fail closed: broker unreadable: /);
    expect(s.halt?.mode).toBe('flatten');
    expect(h.statuses.map((x) => x.status)).toEqual(['halted']);

    // Act: to the close
    const sentBefore = s.orders.length;
    s = await h.runUntil(s, () => false);

    // Assess: no order but a flatten after the rollback; flat at the broker
    expect(s.orders.slice(sentBefore).every((o) => o.reason === 'flatten')).toBe(true);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 300_000);
});
