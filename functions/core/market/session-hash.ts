/**
 * The identity of the market data a decision rested on, for the audit provenance
 * (docs/audit.md#provenance): a hex SHA-256 over a session's bars.
 */
import { createHash } from 'node:crypto';
import type { MarketSession, SymbolSeries } from './types.js';

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

/** A series' members in canonical order (UTF-16 code units, as RFC 8785 sorts them). */
const SERIES_KEYS = [...FIELDS, 'symbol' as const].sort();

/** The first `n` values as a canonical JSON array; a non-finite value as its name (`"NaN"`). */
function numbersJson(values: Float64Array, n: number): string {
  let out = '[';
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (i > 0) out += ',';
    // For a finite number String() prints exactly what JSON.stringify prints (-0 as 0).
    out += Number.isFinite(v) ? String(v) : `"${String(v)}"`;
  }
  return `${out}]`;
}

/** One series' canonical JSON object over its first `n` minutes. */
function seriesJson(s: SymbolSeries, n: number): string {
  const members = SERIES_KEYS.map(
    (k) =>
      `${JSON.stringify(k)}:${k === 'symbol' ? JSON.stringify(s.symbol) : numbersJson(s[k], n)}`,
  );
  return `{${members.join(',')}}`;
}

/**
 * Hex SHA-256 of the canonical JSON (RFC 8785, as `canonicalJson` in core/audit/record.ts
 * writes it, i.e. `valueHash`) of a session's first `count` minutes: `{date, market, series,
 * symbols, timestamps}`, with `timestamps` the minute starts (epoch ms UTC) and each series
 * `{symbol, open, high, low, close, volume, bid, ask, bidSize, askSize}` as columns (USD
 * prices, share sizes; a minute without a trade or quote as `"NaN"`). Any changed, added or
 * removed bar changes the hash; the same bars always give the same hash.
 *
 * Written straight into the hash rather than through `valueHash` (stringify, parse,
 * canonicalize): a paper tick hashes the bars up to its minute on every tick, and the generic
 * path cost ~2 ms per tick late in a session. `test/unit/audit/decision-provenance.test.ts`
 * checks both give the same digest for arbitrary sessions.
 *
 * @param count minutes to cover (default: the whole session); clamped to the session length.
 */
export function sessionDataHash(session: MarketSession, count?: number): string {
  const n = Math.max(0, Math.min(count ?? session.timestamps.length, session.timestamps.length));
  const hash = createHash('sha256');
  hash.update(`{"date":${JSON.stringify(session.date)},"market":${JSON.stringify(session.market)}`);
  hash.update(',"series":[');
  session.series.forEach((s, i) => {
    if (i > 0) hash.update(',');
    hash.update(seriesJson(s, n), 'utf8');
  });
  hash.update(`],"symbols":${JSON.stringify([...session.symbols])}`, 'utf8');
  hash.update(`,"timestamps":${numbersJson(session.timestamps, n)}}`);
  return hash.digest('hex');
}
