/**
 * Day trades of a broker account and the pattern-day-trader (PDT) protection, as Alpaca
 * applies FINRA Rule 4210(f)(8)(B) (Alpaca, "User Protection: Pattern Day Trader (PDT)
 * Protection", docs.alpaca.markets/docs/user-protection):
 *
 * - a day trade is an opening (or increasing) transaction in a security closed (or reduced)
 *   later the same day: a buy then a sell for a long position, a short sale then a buy to
 *   cover for a short one. It counts once whatever the quantities (FINRA examples: buy 250,
 *   buy 250, sell 500 is one day trade; buy, sell, buy, sell is two; holding 100 overnight,
 *   sell 10 then buy 5 is none). Crypto is not subject to the rule and never counts;
 * - an account is a pattern day trader after four day trades within five business days;
 * - the protection: while the account equity is below $25,000, an order that could complete a
 *   day trade (it reduces a position opened or increased today, or a working order on the same
 *   symbol is on the other side) is refused (Alpaca answers 403) when the account already has
 *   three day trades in the last five business days (today included): the fourth is refused.
 *
 * Pure: the simulated broker keeps the {@link DayTradeLedger} in its account record and feeds
 * every fill through {@link recordDayTradeFill}. Note: FINRA's revised Rule 4210 (2026) replaces
 * the PDT framework with intraday margin standards and Alpaca removed its PDT fields on
 * 2026-07-06; the rule applies to the sessions the data holds and is a setting of the broker.
 */
import { type Market, previousTradingDay } from '../calendar/market-calendar.js';

/** The PDT protection's settings. */
export interface PatternDayTraderRule {
  /** Below this account equity (USD) the protection applies (FINRA: 25,000). */
  readonly minEquityUsd: number;
  /** Day trades allowed within five business days below that equity (FINRA: 3). */
  readonly maxDayTrades: number;
}

/** FINRA's numbers, as Alpaca applied them. */
export const FINRA_PDT_RULE: PatternDayTraderRule = { minEquityUsd: 25_000, maxDayTrades: 3 };

/** Business days in the rolling window, today included. */
export const PDT_WINDOW_BUSINESS_DAYS = 5;

/** What the account remembers about day trades. Dates are New York `YYYY-MM-DD`. */
export interface DayTradeLedger {
  /** Day trades made, oldest first (pruned to the window). */
  readonly dayTrades: readonly { readonly date: string; readonly symbol: string }[];
  /**
   * Per symbol: the side ('long' | 'short') opened or increased on `date` and not yet
   * reduced since (a later reduction that day completes a day trade).
   */
  readonly openedToday: Readonly<Record<string, { readonly date: string; readonly side: Side }>>;
}

type Side = 'long' | 'short';

export const EMPTY_DAY_TRADE_LEDGER: DayTradeLedger = { dayTrades: [], openedToday: {} };

/** The `PDT_WINDOW_BUSINESS_DAYS` trading days ending at `date` (included if it trades). */
export function pdtWindow(date: string, market: Market = 'equity-usa'): readonly string[] {
  const days = [date];
  let d = date;
  while (days.length < PDT_WINDOW_BUSINESS_DAYS) {
    d = previousTradingDay(d, market);
    days.push(d);
  }
  return days;
}

/** Day trades within the five business days ending at `date`. */
export function dayTradeCount(ledger: DayTradeLedger, date: string): number {
  const window = new Set(pdtWindow(date));
  return ledger.dayTrades.filter((t) => window.has(t.date)).length;
}

const sign = (x: number) => (Math.abs(x) < 1e-9 ? 0 : x > 0 ? 1 : -1);

/**
 * The ledger after one fill of `signedQty` shares (buy > 0) in `symbol` on `date`, the
 * position being `positionBefore` (signed shares) just before it. A reduction of a side opened
 * or increased today records one day trade and clears that side; an opening or increase marks
 * its side. A fill through flat does both (the close, then the new side). Crypto: unchanged.
 */
export function recordDayTradeFill(
  ledger: DayTradeLedger,
  fill: {
    readonly symbol: string;
    readonly date: string;
    readonly market: Market;
    readonly positionBefore: number;
    readonly signedQty: number;
  },
): DayTradeLedger {
  if (fill.market === 'crypto' || sign(fill.signedQty) === 0) return ledger;
  const before = sign(fill.positionBefore);
  const after = fill.positionBefore + fill.signedQty;
  const flag = ledger.openedToday[fill.symbol];
  const flagToday = flag?.date === fill.date ? flag.side : null;
  let dayTrades = ledger.dayTrades;
  let side: Side | null = flagToday;
  const reduces = before !== 0 && sign(fill.signedQty) !== before;
  if (reduces) {
    const held: Side = before > 0 ? 'long' : 'short';
    if (flagToday === held) {
      dayTrades = [...dayTrades, { date: fill.date, symbol: fill.symbol }];
      side = null;
    }
    // Through flat: the rest opens the other side.
    if (sign(after) !== 0 && sign(after) !== before) side = after > 0 ? 'long' : 'short';
  } else {
    side = fill.signedQty > 0 ? 'long' : 'short';
  }
  const window = new Set(pdtWindow(fill.date));
  const openedToday = { ...ledger.openedToday };
  if (side === null) delete openedToday[fill.symbol];
  else openedToday[fill.symbol] = { date: fill.date, side };
  return { dayTrades: dayTrades.filter((t) => window.has(t.date)), openedToday };
}

/**
 * Why the PDT protection refuses a new order, or null. Refuses when the account equity is
 * below `rule.minEquityUsd`, the order could complete a day trade today (it reduces a side
 * opened or increased today, or a working order on the same symbol is on the other side), and
 * the account already has `rule.maxDayTrades` day trades in the window. Crypto: never.
 */
export function pdtRefusal(input: {
  readonly rule: PatternDayTraderRule;
  readonly ledger: DayTradeLedger;
  readonly market: Market;
  readonly date: string;
  readonly equityUsd: number;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** The account's position in the symbol, signed shares. */
  readonly position: number;
  /** Sides of the account's working orders on the symbol. */
  readonly workingSides: readonly ('buy' | 'sell')[];
}): string | null {
  if (input.market === 'crypto' || input.equityUsd >= input.rule.minEquityUsd) return null;
  const count = dayTradeCount(input.ledger, input.date);
  if (count < input.rule.maxDayTrades) return null;
  const flag = input.ledger.openedToday[input.symbol];
  const held = sign(input.position);
  const reducesOpenedToday =
    flag?.date === input.date &&
    held !== 0 &&
    (held > 0 ? 'long' : 'short') === flag.side &&
    (input.side === 'sell') === held > 0;
  const pairsWithWorking = input.workingSides.some((s) => s !== input.side);
  if (!reducesOpenedToday && !pairsWithWorking) return null;
  return `pattern day trader protection: this order could make a day trade and the account has ${count} day trades in the last ${PDT_WINDOW_BUSINESS_DAYS} business days with equity ${input.equityUsd.toFixed(2)} USD < ${input.rule.minEquityUsd} USD (FINRA Rule 4210: no more than ${input.rule.maxDayTrades} day trades in ${PDT_WINDOW_BUSINESS_DAYS} business days under the minimum equity)`;
}
