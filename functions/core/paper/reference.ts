/**
 * The reference simulation of a paper session and the parity record.
 *
 * The reference runs the SAME tick (`paper-session.ts`) over the same session's bars, from the
 * same start, with the same capital, limits and strategy warm-up (the bars before the window),
 * at the same tick times (the start, then one second after every minute boundary: the
 * workflow's schedule), against the exchange model in memory (`exchange-broker.ts`) with the
 * simulated broker's configuration (latency, participation, fees, buying power). With the
 * simulated broker the paper session and its reference agree to the cent; with Alpaca paper
 * the difference is real slippage and is reported as such.
 *
 * The account rules apply too: when the session has account limits, the reference's tick
 * runs the same pre-trade check against its own account (equity, gross exposure, open
 * positions, and the day-trade count, starting from the broker's count when the session
 * started: `accountDayTradeCount`), and its broker applies the broker's pattern-day-trader
 * protection (`patternDayTrader`), so an order refused under FINRA Rule 4210 at the paper
 * broker is refused in the reference as well. What the reference cannot see: other sessions
 * trading the same account that day (their exposure and day trades).
 */

import { ManualClock } from '../../ports/clock.js';
import type { KillSwitchPort } from '../../ports/kill-switch.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import { ValidationError } from '../errors.js';
import type { PatternDayTraderRule } from '../exchange/day-trades.js';
import { type ExchangeConfig, lastMark, symbolMinutes } from '../exchange/exchange-model.js';
import type { MarketSession } from '../market/types.js';
import type { AccountView } from './account.js';
import { ExchangeBroker } from './exchange-broker.js';
import { type PaperSessionState, paperPnl, paperTick } from './paper-session.js';

/** The exchange configuration of the reference: the simulated broker's settings. */
export interface ReferenceExchangeConfig extends ExchangeConfig {
  /**
   * The broker's pattern-day-trader protection (`exchange/day-trades.ts`; FINRA's numbers at
   * Alpaca and in the simulated broker of both composition roots); null or absent: off.
   */
  readonly patternDayTrader?: PatternDayTraderRule | null;
}

const MINUTE_MS = 60_000;
/** Ticks after the close allowed for the last orders to reach a terminal state. */
const MAX_TICKS = 2_000;

const neverEngaged: KillSwitchPort = {
  read: async () => null,
  set: async () => undefined,
};

/**
 * The reference run of `initial` (a session state before its first tick) on an in-memory
 * account holding `initial.accountCashUsd` and the day trades `initial.accountDayTradeCount`.
 * @throws ValidationError('symbol') when the symbol has no minutes on the session's date.
 */
export async function runReferenceSession(
  marketData: MarketDataPort,
  initial: PaperSessionState,
  exchange: ReferenceExchangeConfig,
): Promise<{ state: PaperSessionState; session: MarketSession }> {
  const session = await marketData.loadSession(initial.date, [initial.symbol]);
  const minutes = symbolMinutes(session, initial.symbol);
  if (!minutes)
    throw new ValidationError('symbol', `no minutes of ${initial.symbol} on ${initial.date}`);
  const clock = new ManualClock(initial.startedAtMs);
  const broker = new ExchangeBroker(
    minutes,
    initial.symbol,
    clock,
    exchange,
    initial.accountCashUsd,
    { rule: exchange.patternDayTrader ?? null, countAtStart: initial.accountDayTradeCount ?? null },
  );
  const deps = {
    broker,
    marketData,
    clock,
    killSwitch: neverEngaged,
    account: () => referenceAccountView(broker),
  };
  let state = initial;
  for (let k = 0; k < MAX_TICKS && !state.done; k++) {
    const out = await paperTick(deps, state);
    state = out.state;
    clock.set(clock.now() + out.waitSeconds * 1_000);
  }
  return { state, session };
}

/** The reference's account as the pre-trade check sees it: this session alone on it. */
async function referenceAccountView(broker: ExchangeBroker): Promise<AccountView> {
  const [account, positions] = await Promise.all([broker.getAccount(), broker.listPositions()]);
  return {
    equityUsd: account.equityUsd,
    grossExposureUsd: account.grossExposureUsd ?? 0,
    otherSessionsOpenNotionalUsd: 0,
    dayTradeCount: account.dayTradeCount ?? null,
    openPositions: positions.filter((p) => p.qty !== 0).length,
  };
}

/** Last mark of the session's symbol at or before `atMs` (quote mid, else close), USD. */
export function markAt(session: MarketSession, symbol: string, atMs: number): number {
  const m = symbolMinutes(session, symbol);
  return m ? lastMark(m, atMs) : Number.NaN;
}

/** One order compared: paper (broker fills) vs reference. */
export interface OrderParity {
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly reason: string;
  readonly paperQty: number;
  readonly referenceQty: number;
  readonly paperAvgPriceUsd: number | null;
  readonly referenceAvgPriceUsd: number | null;
  /** (reference − paper) cash effect of the fills, USD (fees included): > 0 paper did better. */
  readonly differenceUsd: number;
}

/** The parity record of a session (USD). */
export interface ParityRecord {
  readonly promotionId: string;
  readonly paperPnlUsd: number;
  readonly referencePnlUsd: number;
  /** paper − reference, USD. */
  readonly differenceUsd: number;
  readonly orders: readonly OrderParity[];
  /** The cohort's PnL of the genome on its own session and allocation, USD (what promoted it). */
  readonly cohortPnlUsd: number;
  /** Reference minus nothing: how much the cohort's figure exceeded the paper result, USD. */
  readonly cohortFlatteryUsd: number;
}

function cashEffect(o: PaperSessionState['orders'][number] | undefined): number {
  if (!o || o.avgPriceUsd === null) return 0;
  const sign = o.side === 'buy' ? -1 : 1;
  return sign * o.filledQty * o.avgPriceUsd - o.feesUsd;
}

/** Compares the paper session with its reference, order by order and in total. */
export function parityRecord(
  paper: PaperSessionState,
  reference: PaperSessionState,
  session: MarketSession,
  cohortPnlUsd: number,
): ParityRecord {
  const end = paper.closeMs + 5 * MINUTE_MS;
  const mark = markAt(session, paper.symbol, end);
  const paperPnlUsd = paperPnl(paper, mark);
  const referencePnlUsd = paperPnl(reference, mark);
  const refById = new Map(reference.orders.map((o) => [o.clientOrderId, o] as const));
  const ids = [...new Set([...paper.orders, ...reference.orders].map((o) => o.clientOrderId))];
  const orders = ids.map((id): OrderParity => {
    const p = paper.orders.find((o) => o.clientOrderId === id);
    const r = refById.get(id);
    const any = (p ?? r) as PaperSessionState['orders'][number];
    return {
      clientOrderId: id,
      side: any.side,
      reason: any.reason,
      paperQty: p?.filledQty ?? 0,
      referenceQty: r?.filledQty ?? 0,
      paperAvgPriceUsd: p?.avgPriceUsd ?? null,
      referenceAvgPriceUsd: r?.avgPriceUsd ?? null,
      differenceUsd: cashEffect(p) - cashEffect(r),
    };
  });
  return {
    promotionId: paper.promotionId,
    paperPnlUsd,
    referencePnlUsd,
    differenceUsd: paperPnlUsd - referencePnlUsd,
    orders,
    cohortPnlUsd,
    cohortFlatteryUsd: cohortPnlUsd - paperPnlUsd,
  };
}
