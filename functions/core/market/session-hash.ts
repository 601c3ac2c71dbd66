/**
 * The identity of the market data a decision rested on, for the audit provenance
 * (docs/audit.md#provenance): a hex SHA-256 over a session's bars.
 */
import { valueHash } from '../audit/record.js';
import type { MarketSession } from './types.js';

const FIELDS = [
  'open',
  'high',
  'low',
  'close',
  'volume',
  'bid',
  'ask',
  'bidSize',
  'askSize',
] as const;

/**
 * Hex SHA-256 of the canonical JSON of a session's first `count` minutes: date, market,
 * symbols, the minute starts (epoch ms UTC) and every series' columns (USD prices, share
 * sizes; a minute without a trade or quote as `"NaN"`). Any changed, added or removed bar
 * changes the hash; the same bars always give the same hash.
 *
 * @param count minutes to cover (default: the whole session); clamped to the session length.
 */
export function sessionDataHash(session: MarketSession, count?: number): string {
  const n = Math.max(0, Math.min(count ?? session.timestamps.length, session.timestamps.length));
  const column = (a: Float64Array) => Array.from(a.subarray(0, n));
  return valueHash({
    date: session.date,
    market: session.market,
    symbols: [...session.symbols],
    timestamps: column(session.timestamps),
    series: session.series.map((s) => ({
      symbol: s.symbol,
      ...Object.fromEntries(FIELDS.map((f) => [f, column(s[f])])),
    })),
  });
}
