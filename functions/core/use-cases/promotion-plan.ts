/**
 * The promotion's entry plan: the candidate's strategy replayed over today's completed bars
 * gives the one leg the promotion sends (pure).
 */
import { FRACTIONAL_QTY_STEP, roundQtyDown } from '../cohort/fill-model.js';
import type { Genome } from '../cohort/genome.js';
import { sessionOpenMs } from '../cohort/simulate.js';
import { createStrategy, HOLD } from '../cohort/strategies.js';
import { MINUTE_MS } from '../exchange/exchange-model.js';
import type { MarketSession } from '../market/types.js';
import type { OrderSide } from '../orders/order.js';
import type { StagedPromotion } from './promotion-records.js';

/** One order the promotion intends to send. */
export interface PlannedLeg {
  readonly leg: string;
  readonly symbol: string;
  readonly side: OrderSide;
  /** Shares, > 0. */
  readonly qty: number;
  /** Reference price at planning time (ask for buys, bid for sells), USD. */
  readonly refPriceUsd: number;
}

/** Index of the last bar whose minute has ended at `nowMs`, or -1. */
export function lastCompleteBar(session: MarketSession, nowMs: number): number {
  let idx = -1;
  for (let i = 0; i < session.timestamps.length; i++) {
    if ((session.timestamps[i] as number) + MINUTE_MS <= nowMs) idx = i;
    else break;
  }
  return idx;
}

/**
 * The position the gates judge at `nowMs` (exposure, leverage, liquidity): the candidate's
 * strategy replayed over today's completed bars gives a target (signed fraction of the capital
 * slice); when the strategy is flat or has not spoken yet, the genome's base position (long
 * `riskFraction`) is judged, so the gates see the position the candidate would trade with
 * rather than nothing. No order is sent from this plan: the paper session sends the strategy's
 * own signals minute by minute (`core/paper`). Quantity rounds down to whole or 1e-6 shares;
 * an empty plan means the slice cannot buy the step.
 */
export function planEntry(
  promotion: Pick<StagedPromotion, 'genome' | 'capitalSliceUsd'>,
  session: MarketSession,
  lastIdx: number,
  wholeShares: boolean,
): PlannedLeg[] {
  const symbol = promotion.genome.symbol;
  const s = session.series.find((x) => x.symbol === symbol);
  if (!s || lastIdx < 0) return [];
  const strategy = createStrategy(promotion.genome as Genome);
  strategy.reset(sessionOpenMs(session));
  let target = HOLD;
  for (let i = 0; i <= lastIdx; i++) {
    const close = s.close[i] as number;
    if (Number.isNaN(close)) continue;
    const out = strategy.step(
      session.timestamps[i] as number,
      close,
      s.high[i] as number,
      s.low[i] as number,
      s.volume[i] as number,
    );
    if (!Number.isNaN(out)) target = out;
  }
  const riskFraction = promotion.genome.params.riskFraction ?? 1;
  if (Number.isNaN(target) || target === 0) target = riskFraction;
  const side: OrderSide = target > 0 ? 'buy' : 'sell';
  const price = (side === 'buy' ? s.ask[lastIdx] : s.bid[lastIdx]) as number;
  if (!(price > 0)) return [];
  const qty = roundQtyDown(
    (promotion.capitalSliceUsd * Math.abs(target)) / price,
    wholeShares ? 1 : FRACTIONAL_QTY_STEP,
  );
  return qty > 0 ? [{ leg: 'entry', symbol, side, qty, refPriceUsd: price }] : [];
}
