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

/** `values[from, to)` as canonical JSON numbers, comma-separated; a non-finite value as its name (`"NaN"`). */
function numbersBody(values: Float64Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (i > 0) out += ',';
    // For a finite number String() prints exactly what JSON.stringify prints (-0 as 0).
    out += Number.isFinite(v) ? String(v) : `"${String(v)}"`;
  }
  return out;
}

/** True when `a` and `b` hold the same first `n` values (NaN equal to NaN; -0 differs from 0). */
function samePrefix(a: Float64Array, b: Float64Array, n: number): boolean {
  if (a.length < n || b.length < n) return false;
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Columns whose JSON body is remembered (a few sessions' worth of columns). */
const MEMO_COLUMNS = 64;

/**
 * The JSON bodies of the columns hashed last (per session, symbol and field), so a paper tick
 * that hashes the bars up to its minute converts only the minutes added since the last tick to
 * text: the earlier values are compared with the remembered copy (a cheap loop) and, when one
 * differs or fewer minutes are asked for, the body is rebuilt from scratch. The result never
 * depends on what is remembered, only the time it takes.
 */
const columnBodies = new Map<string, { values: Float64Array; body: string }>();

/** The first `n` values as a canonical JSON array, extending the remembered body of `key`. */
function numbersJson(key: string, values: Float64Array, n: number): string {
  const memo = columnBodies.get(key);
  const m = memo?.values.length ?? 0;
  const body =
    memo && m <= n && samePrefix(memo.values, values, m)
      ? memo.body + numbersBody(values, m, n)
      : numbersBody(values, 0, n);
  columnBodies.delete(key);
  if (values.length >= n) {
    columnBodies.set(key, { values: values.slice(0, n), body });
    if (columnBodies.size > MEMO_COLUMNS) {
      const oldest = columnBodies.keys().next().value;
      if (oldest !== undefined) columnBodies.delete(oldest);
    }
  }
  return `[${body}]`;
}

/** One series' canonical JSON object over its first `n` minutes (`prefix` names the session). */
function seriesJson(prefix: string, s: SymbolSeries, n: number): string {
  const members = SERIES_KEYS.map(
    (k) =>
      `${JSON.stringify(k)}:${k === 'symbol' ? JSON.stringify(s.symbol) : numbersJson(`${prefix}${JSON.stringify(s.symbol)}\0${k}`, s[k], n)}`,
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
 * path cost ~2 ms per tick late in a session; and the columns' text is extended from the last
 * call's rather than rebuilt (see `columnBodies`), so a tick converts only its new minutes.
 * `test/unit/audit/decision-provenance.test.ts` checks the digest equals the generic one for
 * arbitrary sessions and for arbitrary sequences of calls (growing, shrinking, earlier bars
 * changed).
 *
 * @param count minutes to cover (default: the whole session); clamped to the session length.
 */
export function sessionDataHash(session: MarketSession, count?: number): string {
  const n = Math.max(0, Math.min(count ?? session.timestamps.length, session.timestamps.length));
  const prefix = `${session.date}\0${session.market}\0`;
  const hash = createHash('sha256');
  hash.update(`{"date":${JSON.stringify(session.date)},"market":${JSON.stringify(session.market)}`);
  hash.update(',"series":[');
  session.series.forEach((s, i) => {
    if (i > 0) hash.update(',');
    hash.update(seriesJson(prefix, s, n), 'utf8');
  });
  hash.update(`],"symbols":${JSON.stringify([...session.symbols])}`, 'utf8');
  hash.update(`,"timestamps":${numbersJson(`${prefix}timestamps`, session.timestamps, n)}}`);
  return hash.digest('hex');
}
