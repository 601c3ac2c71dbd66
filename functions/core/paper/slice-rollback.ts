/**
 * The rollback monitor of a micro-live slice INSIDE its paper session: every tick values the
 * slice at the broker and asks {@link evaluateRollback} whether it keeps trading.
 *
 * The slice's equity is the broker's, never the simulator's: this session's cash after every
 * fill as the broker reported it (price, quantity, fees; the session's book) plus its position
 * at the broker's current price of the symbol (`BrokerPosition.marketPriceUsd`: Alpaca
 * `current_price`, the simulated broker's mark). The first point of the curve is the slice's
 * capital; one point is added per tick (one a minute), the sampling period of the Day 1-3
 * minute-return variance the variance ratio compares with.
 *
 * Fail closed: when the broker cannot be read (an error from `listPositions`), reports no
 * position in the symbol while the slice's book holds one, a position of the other side or
 * smaller than the book's, or no current price, the slice cannot be valued and is rolled
 * back (trigger `broker_unreadable`), as when the variance yardstick is missing
 * (`missing_data`, {@link evaluateRollback}).
 */
import * as z from 'zod';
import type { BrokerPosition } from '../../ports/broker.js';
import { DUST_QTY } from '../exchange/position-book.js';
import {
  evaluateRollback,
  RollbackConfigSchema,
  type RollbackVerdict,
} from '../rollback/monitor.js';

/**
 * What a micro-live promotion carries for its rollback monitor: the Day-3 rollback thresholds
 * and the approved candidate's Day 1-3 minute-return variance (fraction², null when unknown:
 * the monitor then fails closed). Strict.
 */
export const SliceRollbackSchema = RollbackConfigSchema.extend({
  backtestReturnVariance: z.number().positive().nullable(),
});
export type SliceRollback = z.infer<typeof SliceRollbackSchema>;

/**
 * How the reason of a promotion demoted by its slice's rollback monitor starts (the promotion's
 * status reason and the pipeline's `halted` outcome; the Day-3 Conclude maps it to the slice's
 * `rolled_back`).
 */
export const SLICE_ROLLBACK_REASON = 'rollback: ';

/** The slice valued at the broker, or why it cannot be. */
export type SliceValuation =
  | { readonly kind: 'valued'; readonly equityUsd: number; readonly markUsd: number | null }
  | { readonly kind: 'unreadable'; readonly reason: string };

/**
 * Values the slice at the broker: `cashUsd + qty × marketPriceUsd` of the broker's position in
 * `symbol` (USD). Flat (|qty| ≤ dust): the cash alone. Unreadable (see the module comment)
 * when the broker's position cannot carry the slice's.
 *
 * @param book this session's book from the broker's fills: cash (USD) and signed shares.
 * @param positions the broker's positions, or the error reading them.
 */
export function valueSliceAtBroker(
  book: { readonly cashUsd: number; readonly qty: number },
  symbol: string,
  positions: readonly BrokerPosition[] | Error,
): SliceValuation {
  if (positions instanceof Error) {
    return { kind: 'unreadable', reason: `broker unreadable: ${positions.message}` };
  }
  if (Math.abs(book.qty) <= DUST_QTY) {
    return { kind: 'valued', equityUsd: book.cashUsd, markUsd: null };
  }
  const held = positions.find((p) => p.symbol === symbol);
  const sameSide = held !== undefined && held.qty > 0 === book.qty > 0;
  if (!held || !sameSide || Math.abs(held.qty) + DUST_QTY < Math.abs(book.qty)) {
    return {
      kind: 'unreadable',
      reason: `the broker holds ${held?.qty ?? 0} ${symbol}, the slice's book ${book.qty}: the slice cannot be valued at the broker`,
    };
  }
  const mark = held.marketPriceUsd;
  if (mark === undefined || !Number.isFinite(mark) || !(mark > 0)) {
    return { kind: 'unreadable', reason: `the broker reports no current price of ${symbol}` };
  }
  return { kind: 'valued', equityUsd: book.cashUsd + book.qty * mark, markUsd: mark };
}

/** One tick of the slice's monitor: the curve with this tick's point and the verdict. */
export interface SliceRollbackCheck {
  /** Equity curve, USD, oldest first (capital first); unchanged when unreadable. */
  readonly equityCurveUsd: readonly number[];
  readonly verdict: RollbackVerdict;
}

/**
 * Adds this tick's broker valuation to the slice's equity curve and evaluates the rollback
 * rules on it ({@link evaluateRollback}: drawdown from the running peak, variance ratio
 * against the Day 1-3 minute-return variance). An unreadable valuation is a rollback with
 * trigger `broker_unreadable` (fail closed).
 *
 * @param curveUsd the curve so far (empty: it starts at `capitalUsd`).
 * @throws ValidationError when the thresholds are invalid.
 */
export function checkSliceRollback(input: {
  readonly rollback: SliceRollback;
  readonly capitalUsd: number;
  readonly curveUsd: readonly number[];
  readonly valuation: SliceValuation;
}): SliceRollbackCheck {
  const { backtestReturnVariance, ...config } = input.rollback;
  const before = input.curveUsd.length > 0 ? input.curveUsd : [input.capitalUsd];
  if (input.valuation.kind === 'unreadable') {
    const last = evaluateRollback({ equityCurveUsd: before, backtestReturnVariance }, config);
    return {
      equityCurveUsd: before,
      verdict: {
        ...last,
        action: 'rollback',
        trigger: 'broker_unreadable',
        reason: `fail closed: ${input.valuation.reason}`,
      },
    };
  }
  const curve = [...before, input.valuation.equityUsd];
  return {
    equityCurveUsd: curve,
    verdict: evaluateRollback({ equityCurveUsd: curve, backtestReturnVariance }, config),
  };
}
