/**
 * The paper session on every shared session: promoted genomes trade their own signals through
 * the simulated paper broker (orders sent when each decision is known), flatten before the
 * close, and their paper PnL, computed only from the broker's fills, equals the reference
 * simulation's to the cent; the orders equal the reference's (sides, quantities, minutes).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import {
  BELOW_FRACTIONAL_MINIMUM,
  type ExchangeConfig,
} from '../../../functions/core/exchange/exchange-model.js';
import {
  BROKER_FEE_SCHEDULES,
  stageFeeCosts,
} from '../../../functions/core/exchange/fee-schedules.js';
import { type PaperSessionState, paperTick } from '../../../functions/core/paper/paper-session.js';
import { parityRecord, runReferenceSession } from '../../../functions/core/paper/reference.js';
import { paperSessionResult } from '../../../functions/core/paper/track-record.js';
import type { BrokerOrder, BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { KillSwitchPort } from '../../../functions/ports/kill-switch.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { DATA_ROOT } from '../../support/paths.js';

const SESSIONS = [
  '2013-10-04',
  '2013-10-07',
  '2013-10-08',
  '2013-10-09',
  '2013-10-10',
  '2013-10-11',
];
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const cents = (usd: number) => Math.round(usd * 100);
const costs = parseCohortConfig({ bankrollUsd: 1_000 });
const EXCHANGE: ExchangeConfig = {
  participationFraction: 0.1,
  latencyMs: 1_000,
  costs,
  fractionalShares: true,
  buyingPowerMultiplier: 1,
};
const off: KillSwitchPort = { read: async () => null, set: async () => undefined };

let marketData: LeanMarketData;

beforeAll(() => {
  marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
});

/** The three most active genomes of a seeded cohort on `date`. */
async function promotedGenomes(date: string, seed: number) {
  const session = await marketData.loadSession(date, SYMBOLS);
  const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30, seed });
  const result = simulateCohort({
    cohortId: `c-${date}`,
    session,
    genomes: seedGenomePool(30, SYMBOLS, seed),
    config,
  });
  return [...result.agents]
    .sort((a, b) => b.tradeCount - a.tradeCount)
    .slice(0, 3)
    .map((a) => a.genome);
}

function initial(
  date: string,
  genome: PaperSessionState['genome'],
  k: number,
  openMs: number,
  exchange: ExchangeConfig = EXCHANGE,
) {
  return paperSessionFixture({
    promotionId: `P${date.replaceAll('-', '')}${k}`,
    genome,
    date,
    openMs,
    costs: exchange.costs,
  });
}

/**
 * The broker's orders as Alpaca paper reports them: `feesUsd` is the commission (the
 * regulatory fees are account activities, outside the order) and no fees by type.
 */
function asAlpacaReports(order: BrokerOrder): BrokerOrder {
  const { regulatoryFeesUsd: r, ...rest } = order;
  return { ...rest, feesUsd: order.feesUsd - (r ? r.secUsd + r.tafUsd + r.catUsd : 0) };
}

/** `broker` reporting its orders as Alpaca paper does ({@link asAlpacaReports}). */
function reportingLikeAlpaca(broker: SimulatedPaperBroker): BrokerPort {
  const b = broker as unknown as BrokerPort;
  return {
    ...b,
    name: b.name,
    submitOrder: async (r) => {
      const out = await b.submitOrder(r);
      return { ...out, order: asAlpacaReports(out.order) };
    },
    getOrderByClientOrderId: async (id) => {
      const o = await b.getOrderByClientOrderId(id);
      return o ? asAlpacaReports(o) : null;
    },
    cancelOrder: async (id) => asAlpacaReports(await b.cancelOrder(id)),
    listOpenOrders: async () => (await b.listOpenOrders()).map(asAlpacaReports),
    listPositions: () => b.listPositions(),
    getAccount: () => b.getAccount(),
  };
}

/** Runs the session through a fresh simulated paper broker on the workflow's tick schedule. */
async function runPaper(
  start: PaperSessionState,
  exchange: ExchangeConfig = EXCHANGE,
  reports: 'by type' | 'like Alpaca' = 'by type',
) {
  const clock = new ManualClock(start.startedAtMs);
  const simulated = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
    clock,
    config: { ...exchange, startingCashUsd: 100_000 },
  });
  const broker = reports === 'by type' ? simulated : reportingLikeAlpaca(simulated);
  let state = start;
  while (!state.done) {
    const out = await paperTick({ broker, marketData, clock, killSwitch: off }, state);
    state = out.state;
    clock.set(clock.now() + out.waitSeconds * 1_000);
  }
  const positions = await broker.listPositions();
  // The next New York day: the account has paid the session day's regulatory-fee charge.
  clock.set(start.closeMs + 12 * 3_600_000);
  return { state, positions, ledger: await simulated.getLedger() };
}

/**
 * The session's PnL by hand from its orders, flat at the end: the fills' cash, less the fees
 * the broker reported, less the day's regulatory-fee rounding at Alpaca's rates (SEC on sale
 * principal, TAF per share sold, CAT on each order's shares rounded up to a whole share; each
 * type's day total rounded up to the cent, less the unrounded totals). Returns both.
 */
function pnlByHand(orders: PaperSessionState['orders']): { pnlUsd: number; roundingUsd: number } {
  const {
    secFeePerUsdSold: sec,
    finraTafPerShareSold: taf,
    catFeePerShare: cat,
  } = BROKER_FEE_SCHEDULES.alpaca_equity.costs;
  let [secUsd, tafUsd, catUsd, cash] = [0, 0, 0, 0];
  for (const o of orders) {
    if (!(o.filledQty > 0) || o.avgPriceUsd === null) continue;
    const notional = o.filledQty * o.avgPriceUsd;
    cash += (o.side === 'buy' ? -notional : notional) - o.feesUsd;
    catUsd += cat * Math.ceil(o.filledQty - 1e-9);
    if (o.side === 'sell') {
      secUsd += sec * notional;
      tafUsd += taf * o.filledQty;
    }
  }
  const up = (usd: number) => (usd > 0 ? Math.ceil(usd * 100 - 1e-6) / 100 : 0);
  const roundingUsd = up(secUsd) + up(tafUsd) + up(catUsd) - (secUsd + tafUsd + catUsd);
  return { pnlUsd: cash - roundingUsd, roundingUsd };
}

describe("Alpaca's USD 1 minimum of a fractional buy, in the cohort and the paper session", () => {
  it('a 1.67 USD slice whose entries are all below USD 1: the cohort sends none and counts them; its paper session sends none either and says so in its tick decision; parity holds', async () => {
    // Prepare: a USD 50, 30-agent cohort (1.67 USD agents) and its agent that skipped most
    const date = '2013-10-07';
    const session = await marketData.loadSession(date, SYMBOLS);
    const config = parseCohortConfig({ bankrollUsd: 50, agentCount: 30, seed: 1 });
    const cohort = simulateCohort({
      cohortId: 'c-small',
      session,
      genomes: seedGenomePool(30, SYMBOLS, 1),
      config,
    });
    const fills = cohort.agents.flatMap((a) => a.fills);
    expect(fills.some((f) => f.side === 'buy' && f.qty * f.priceUsd < 1)).toBe(false);
    // The agent that skipped most (its genome's entries are all below USD 1 at 1.67 USD)
    const agent = [...cohort.agents].sort(
      (a, b) => (b.belowMinimumBuys ?? 0) - (a.belowMinimumBuys ?? 0),
    )[0];
    expect(agent?.belowMinimumBuys).toBeGreaterThan(0);
    const open = session.timestamps[0] as number;
    const start = {
      ...initial(date, agent?.genome as PaperSessionState['genome'], 0, open),
      capitalUsd: agent?.allocationUsd as number,
    };

    // Act: the paper session through the simulated broker, every tick's decision kept
    const clock = new ManualClock(start.startedAtMs);
    const broker = new SimulatedPaperBroker({
      store: new InMemorySimulatedBrokerStore(),
      marketData,
      clock,
      config: { ...EXCHANGE, startingCashUsd: 100_000 },
    });
    const reasons: string[] = [];
    let state = start;
    while (!state.done) {
      const out = await paperTick({ broker, marketData, clock, killSwitch: off }, state);
      reasons.push(out.decision.reason);
      state = out.state;
      clock.set(clock.now() + out.waitSeconds * 1_000);
    }
    const reference = await runReferenceSession(marketData, start, EXCHANGE);
    const parity = parityRecord(state, reference.state, reference.session, 0);

    // Assess
    expect(reasons.some((r) => r.includes(BELOW_FRACTIONAL_MINIMUM))).toBe(true);
    // Its paper session sends none of them either (Alpaca would refuse each), as its reference
    expect(agent?.fills).toEqual([]);
    expect(state.orders).toEqual([]);
    expect(reference.state.orders).toEqual([]);
    expect(cents(parity.differenceUsd)).toBe(0);
  }, 600_000);
});

describe('paper session vs its reference simulation (every shared session)', () => {
  it("trades the genome's own signals, flattens before the close, and matches the reference to the cent", async () => {
    let sessionsWithOrders = 0;
    let flattens = 0;
    for (const [d, date] of SESSIONS.entries()) {
      const open = (await marketData.loadSession(date, ['SPY'])).timestamps[0] as number;
      for (const [k, genome] of (await promotedGenomes(date, 11 + d)).entries()) {
        // Prepare
        const start = initial(date, genome, k, open);

        // Act
        const paper = await runPaper(start);
        const reference = await runReferenceSession(marketData, start, EXCHANGE);
        const parity = parityRecord(paper.state, reference.state, reference.session, 0);

        // Assess: the same orders (side, quantity, decision minute, reason), all filled
        const key = (o: PaperSessionState['orders'][number]) =>
          [o.clientOrderId, o.side, o.qty, o.decidedAtMs, o.reason, o.status].join('|');
        expect(paper.state.orders.map(key)).toEqual(reference.state.orders.map(key));
        for (const o of paper.state.orders) {
          expect(o.submittedAtMs).toBeGreaterThanOrEqual(o.decidedAtMs + 60_000);
          expect(['filled', 'canceled']).toContain(o.status);
        }
        // Flat at the end: the flatten was sent before the close and filled.
        expect(paper.positions).toEqual([]);
        if (paper.state.orders.length > 0) {
          sessionsWithOrders++;
          const flatten = paper.state.orders.filter((o) => o.reason === 'flatten');
          if (flatten.length > 0) flattens++;
          for (const o of flatten) {
            expect(o.decidedAtMs).toBe(start.closeMs - 2 * 60_000);
            expect(paper.state.orders.at(-1)).toEqual(o);
          }
          expect(
            paper.state.orders.every((o) => o.decidedAtMs + 60_000 >= start.windowOpenMs),
          ).toBe(true);
        }
        // Parity to the cent
        expect(cents(parity.differenceUsd)).toBe(0);
        expect(cents(parity.paperPnlUsd)).toBe(cents(parity.referencePnlUsd));
        for (const o of parity.orders) expect(cents(o.differenceUsd)).toBe(0);
      }
    }
    expect(sessionsWithOrders).toBeGreaterThan(6);
    expect(flattens).toBeGreaterThan(0);
  }, 600_000); // 18 whole sessions twice: ~30 s quiet, minutes on a loaded 2-core machine

  it("with Alpaca's equity fees (the staging and prod preset: SEC fee, TAF, CAT fee), paper PnL still equals the reference's to the cent", async () => {
    const alpaca: ExchangeConfig = { ...EXCHANGE, costs: stageFeeCosts('alpaca_equity') };
    let feesUsd = 0;
    let roundedDays = 0;
    for (const [d, date] of SESSIONS.slice(2, 4).entries()) {
      const open = (await marketData.loadSession(date, ['SPY'])).timestamps[0] as number;
      for (const [k, genome] of (await promotedGenomes(date, 13 + d)).entries()) {
        // Prepare
        const start = initial(date, genome, k, open, alpaca);

        // Act
        const paper = await runPaper(start, alpaca);
        const reference = await runReferenceSession(marketData, start, alpaca);
        const parity = parityRecord(paper.state, reference.state, reference.session, 0);

        // Assess: the fees are charged, and the same on both sides to the cent
        for (const o of paper.state.orders) feesUsd += o.feesUsd;
        expect(cents(parity.differenceUsd)).toBe(0);
        expect(cents(parity.paperPnlUsd)).toBe(cents(parity.referencePnlUsd));
        for (const o of parity.orders) expect(cents(o.differenceUsd)).toBe(0);
        // ... as Alpaca charges them: the day's total of each fee type rounded up to the
        // cent, in the paper PnL and at the broker (its account, flat, the next day)
        const byHand = pnlByHand(paper.state.orders);
        expect(parity.paperPnlUsd).toBeCloseTo(byHand.pnlUsd, 9);
        expect(paper.ledger.cashUsd - 100_000).toBeCloseTo(parity.paperPnlUsd, 9);
        // ... and in the paper track record (its PnL and daily return) the same way
        const result = paperSessionResult({
          state: paper.state,
          parity,
          broker: 'simulated:paper',
          reconciliationClean: true,
          recordedAtIso: '',
        });
        expect(result.paperPnlUsd).toBeCloseTo(byHand.pnlUsd, 9);
        expect(result.dailyReturn * paper.state.capitalUsd).toBeCloseTo(byHand.pnlUsd, 9);
        if (byHand.roundingUsd >= 0.01) roundedDays++;
      }
    }
    expect(feesUsd).toBeGreaterThan(0);
    // Sessions whose daily charge differs from the sum of the per-fill fees by a cent or more
    expect(roundedDays).toBeGreaterThan(0);
  }, 600_000);

  it("at a broker that reports no fees by type (Alpaca paper), the session prices its orders' regulatory fees at the stage's rates: paper PnL still equals the reference's to the cent", async () => {
    const alpaca: ExchangeConfig = { ...EXCHANGE, costs: stageFeeCosts('alpaca_equity') };
    const date = SESSIONS[2] as string;
    const open = (await marketData.loadSession(date, ['SPY'])).timestamps[0] as number;
    let modelledUsd = 0;
    for (const [k, genome] of (await promotedGenomes(date, 13)).entries()) {
      // Prepare
      const start = initial(date, genome, k, open, alpaca);

      // Act
      const paper = await runPaper(start, alpaca, 'like Alpaca');
      const reference = await runReferenceSession(marketData, start, alpaca);
      const parity = parityRecord(paper.state, reference.state, reference.session, 0);

      // Assess: the fees by type the broker did not report are priced, and parity holds
      for (const o of paper.state.orders) {
        const r = o.regulatoryFeesUsd;
        if (r) modelledUsd += r.secUsd + r.tafUsd + r.catUsd;
      }
      expect(cents(parity.differenceUsd)).toBe(0);
      expect(parity.paperPnlUsd).toBeCloseTo(pnlByHand(paper.state.orders).pnlUsd, 9);
    }
    expect(modelledUsd).toBeGreaterThan(0);
  }, 600_000);
});
