/**
 * An early-close session (13:00 New York, from the general NYSE calendar, not the shared
 * week): the paper session decides its flatten early enough to execute inside the session,
 * sends nothing after it, and ends flat at the simulated broker before 13:00.
 *
 * The bars are a real shared session's (2013-10-08) moved onto the day after Thanksgiving
 * 2013 and cut at the early close: the calendar, not the data, says when the session ends.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { sessionHours } from '../../../functions/core/calendar/market-calendar.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { NoSessionError } from '../../../functions/core/errors.js';
import type { DailyHistory } from '../../../functions/core/market/corporate-actions.js';
import { sessionUpTo } from '../../../functions/core/market/session-window.js';
import type { MarketSession, SymbolSeries } from '../../../functions/core/market/types.js';
import {
  newPaperSession,
  type PaperSessionState,
  paperTick,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { MarketDataPort } from '../../../functions/ports/market-data.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { DATA_ROOT } from '../../support/paths.js';

const SOURCE_DATE = '2013-10-08';
const EARLY_CLOSE_DATE = '2013-11-29';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

/** The shared session's bars moved to `date`'s open and cut at its (calendar) close. */
function movedSession(source: MarketSession, date: string): MarketSession {
  const hours = sessionHours(date, 'equity-usa');
  if (!hours) throw new Error(`${date} is not a session`);
  const openMs = Date.parse(hours.openIso);
  const closeMs = Date.parse(hours.closeIso);
  const shift = openMs - (source.timestamps[0] as number);
  const keep: number[] = [];
  for (let i = 0; i < source.timestamps.length; i++) {
    const t = (source.timestamps[i] as number) + shift;
    if (t + 60_000 <= closeMs) keep.push(i);
  }
  const pick = (a: Float64Array) => Float64Array.from(keep, (i) => a[i] as number);
  return {
    date,
    market: 'equity-usa',
    symbols: source.symbols,
    timestamps: Float64Array.from(keep, (i) => (source.timestamps[i] as number) + shift),
    series: source.series.map(
      (s): SymbolSeries => ({
        symbol: s.symbol,
        open: pick(s.open),
        high: pick(s.high),
        low: pick(s.low),
        close: pick(s.close),
        volume: pick(s.volume),
        bid: pick(s.bid),
        ask: pick(s.ask),
        bidSize: pick(s.bidSize),
        askSize: pick(s.askSize),
      }),
    ),
  };
}

/** A market-data port holding one session (the moved one). */
class OneSessionMarketData implements MarketDataPort {
  constructor(private readonly session: MarketSession) {}
  async loadSession(date: string, symbols: readonly string[]): Promise<MarketSession> {
    if (date !== this.session.date) throw new NoSessionError(date, [this.session.date]);
    const idx = symbols.map((s) => this.session.symbols.indexOf(s));
    return {
      ...this.session,
      symbols: [...symbols],
      series: idx.map((i) => this.session.series[i] as SymbolSeries),
    };
  }
  async loadSessionUpTo(date: string, symbols: readonly string[], nowMs: number) {
    return sessionUpTo(await this.loadSession(date, symbols), nowMs);
  }
  async loadDaily() {
    return [];
  }
  async loadDailyHistory(): Promise<DailyHistory> {
    throw new Error('not used by a paper session');
  }
  async splits() {
    return [];
  }
  async listSessions() {
    return [this.session.date];
  }
}

let marketData: OneSessionMarketData;
let genomes: PaperSessionState['genome'][];
let closeMs: number;
let openMs: number;

beforeAll(async () => {
  const lean = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const moved = movedSession(await lean.loadSession(SOURCE_DATE, SYMBOLS), EARLY_CLOSE_DATE);
  marketData = new OneSessionMarketData(moved);
  const hours = sessionHours(EARLY_CLOSE_DATE, 'equity-usa');
  closeMs = Date.parse(hours?.closeIso ?? '');
  openMs = Date.parse(hours?.openIso ?? '');
  const result = simulateCohort({
    cohortId: 'c-early',
    session: moved,
    genomes: seedGenomePool(30, SYMBOLS, 12),
    config: parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30, seed: 12 }),
  });
  genomes = [...result.agents]
    .filter((a) => a.tradeCount > 0)
    .sort((a, b) => b.tradeCount - a.tradeCount)
    .map((a) => a.genome);
});

describe('an early-close session (13:00 New York)', () => {
  it('is an early close in the calendar (the test is about the calendar, not the data)', () => {
    // Assess
    expect(sessionHours(EARLY_CLOSE_DATE, 'equity-usa')).toMatchObject({
      closeIso: '2013-11-29T18:00:00.000Z',
      earlyClose: true,
    });
    expect(genomes.length).toBeGreaterThan(3);
  });

  it('each of the most active genomes ends flat before 13:00: the flatten is decided and filled inside the session, nothing after it', async () => {
    for (const [n, genome] of genomes.slice(0, 4).entries()) {
      // Prepare
      const clock = new ManualClock(openMs + 30 * 60_000);
      const broker = new SimulatedPaperBroker({
        store: new InMemorySimulatedBrokerStore(),
        marketData,
        clock,
        config: {
          participationFraction: 1,
          latencyMs: 1_000,
          costs,
          fractionalShares: true,
          buyingPowerMultiplier: 1,
          startingCashUsd: 100_000,
        },
      });
      let state = newPaperSession({
        promotionId: `PEARLY${n}`,
        genome,
        market: 'equity-usa',
        date: EARLY_CLOSE_DATE,
        capitalUsd: 100,
        windowOpenMs: openMs + 30 * 60_000,
        closeMs,
        startedAtMs: openMs + 30 * 60_000,
        accountCashUsd: 100_000,
        limits: {
          leverageCap: 2,
          maxAggregateExposure: 1,
          costs,
          fractionalShares: true,
          maxOrderNotionalUsd: 1_000,
          dailyLossStopFraction: 0.5,
          maxBarAgeSeconds: 300,
        },
      });
      const deps = {
        broker,
        marketData,
        clock,
        killSwitch: { read: async () => null, set: async () => {} },
      };

      // Act: tick every minute until the session is done (it tracks its orders past the
      // close); the broker's positions as of 13:00 exactly (fills of minutes ended by then)
      let positionsAtClose: unknown = null;
      while (!state.done) {
        state = (await paperTick(deps, state)).state;
        const next = (Math.floor(clock.now() / 60_000) + 1) * 60_000 + 1_000;
        if (positionsAtClose === null && next > closeMs) {
          clock.set(closeMs);
          positionsAtClose = await broker.listPositions();
        }
        clock.set(next);
      }

      // Assess
      const label = `genome ${n} (${genome.symbol})`;
      expect(state.flattenDecided, label).toBe(true);
      expect(state.orders.length, label).toBeGreaterThan(0);
      const flattenAt = state.orders.find((o) => o.reason === 'flatten')?.decidedAtMs;
      for (const o of state.orders) {
        expect(o.decidedAtMs + 60_000, label).toBeLessThanOrEqual(closeMs - 60_000);
        expect(o.submittedAtMs, label).toBeLessThan(closeMs);
        expect(o.status, label).toBe('filled');
        if (flattenAt !== undefined) expect(o.decidedAtMs, label).toBeLessThanOrEqual(flattenAt);
      }
      expect(positionsAtClose, label).toEqual([]);
      expect(sessionBook(state).positions[genome.symbol]?.qty ?? 0, label).toBe(0);
      expect(await broker.listOpenOrders(), label).toEqual([]);
    }
  }, 300_000);
});
