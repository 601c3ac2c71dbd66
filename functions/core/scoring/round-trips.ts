/**
 * Round trips: the unit a trade count means for the `min_trade_count` gate. A round trip is a
 * position in one symbol opened from flat and brought back to flat (a reversal through zero
 * closes one round trip and opens the next). Fills are a different, larger number (an entry
 * scaled in by three orders and closed by one is 4 fills, 1 round trip), so both are reported,
 * labelled.
 */

/** The part of a fill the count reads. */
export interface RoundTripFill {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** Shares, > 0. */
  readonly qty: number;
}

/** Position below this many shares counts as flat (fractional-share rounding). */
const FLAT_EPSILON = 1e-9;

/**
 * Completed round trips of a fill sequence (oldest first), summed over symbols: each time a
 * symbol's position returns to (or crosses) zero from a non-zero position. A position still
 * open at the end is not a completed round trip.
 */
export function countRoundTrips(fills: readonly RoundTripFill[]): number {
  const position = new Map<string, number>();
  let trips = 0;
  for (const f of fills) {
    const before = position.get(f.symbol) ?? 0;
    const after = before + (f.side === 'buy' ? f.qty : -f.qty);
    const wasOpen = Math.abs(before) > FLAT_EPSILON;
    if (wasOpen && (Math.abs(after) <= FLAT_EPSILON || Math.sign(after) !== Math.sign(before))) {
      trips++;
    }
    position.set(f.symbol, Math.abs(after) <= FLAT_EPSILON ? 0 : after);
  }
  return trips;
}
