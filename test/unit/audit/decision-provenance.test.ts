/**
 * Provenance of the cohort and paper-session decisions (docs/audit.md#provenance): the
 * `cohort_scored` and `paper_decision` records name the config and the data they rested on,
 * and the hashes move when, and only when, that config or data changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { valueHash } from '../../../functions/core/audit/record.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { sessionDataHash } from '../../../functions/core/market/session-hash.js';
import type { MarketSession } from '../../../functions/core/market/types.js';
import { cohortProvenance } from '../../../functions/core/use-cases/intraday-cohort.js';
import { paperDecisionProvenance } from '../../../functions/core/use-cases/paper-session.js';

const HEX64 = /^[0-9a-f]{64}$/;
const T0 = Date.UTC(2013, 9, 8, 13, 30);

/** A session of `n` minutes of one symbol, closes 100, 100.01, ...; minute 2 without a trade. */
function session(n = 5): MarketSession {
  const col = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const close = col((i) => (i === 2 ? Number.NaN : 100 + i / 100));
  return {
    date: '2013-10-08',
    market: 'equity-usa',
    symbols: ['SPY'],
    timestamps: col((i) => T0 + i * 60_000),
    series: [
      {
        symbol: 'SPY',
        open: close,
        high: close,
        low: close,
        close,
        volume: col((i) => (i === 2 ? 0 : 1_000)),
        bid: col((i) => 99.99 + i / 100),
        ask: col((i) => 100.01 + i / 100),
        bidSize: col(() => 3),
        askSize: col(() => 4),
      },
    ],
  };
}

function withClose(s: MarketSession, minute: number, value: number): MarketSession {
  const series = s.series[0]!;
  const close = Float64Array.from(series.close);
  close[minute] = value;
  return { ...s, series: [{ ...series, close }] };
}

describe('sessionDataHash', () => {
  it('is stable for the same bars and moves with any one changed bar', () => {
    // Prepare
    const a = session();
    // Act
    const h = sessionDataHash(a);
    // Assess
    expect(h).toMatch(HEX64);
    expect(sessionDataHash(session())).toBe(h);
    expect(sessionDataHash(withClose(a, 4, 100.05))).not.toBe(h);
    expect(sessionDataHash(withClose(a, 2, 100.02))).not.toBe(h); // a missing minute filled in
    expect(sessionDataHash({ ...a, date: '2013-10-09' })).not.toBe(h);
  });

  it('covers only the first `count` minutes (a tick sees the bars up to now)', () => {
    // Prepare
    const a = session();
    // Act
    const upTo3 = sessionDataHash(a, 3);
    // Assess: a later bar does not move it, an earlier one does; count is clamped
    expect(sessionDataHash(withClose(a, 4, 120), 3)).toBe(upTo3);
    expect(sessionDataHash(withClose(a, 1, 120), 3)).not.toBe(upTo3);
    expect(sessionDataHash(session(3))).toBe(upTo3);
    expect(sessionDataHash(a, 99)).toBe(sessionDataHash(a));
  });

  it('is the valueHash of the session as a plain document, for any bars and any count', () => {
    // Prepare: arbitrary sessions (prices with NaN, ±Infinity, -0, tiny and huge values), 0-3
    // symbols, any count; the reference is the generic canonical-JSON hash of the document
    const value = fc.oneof(
      fc.double(),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
    );
    const arb = fc
      .record({
        n: fc.integer({ min: 0, max: 12 }),
        symbols: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3 }),
        market: fc.constantFrom('equity-usa' as const, 'crypto' as const),
        count: fc.option(fc.integer({ min: -2, max: 15 }), { nil: undefined }),
      })
      .chain(({ n, symbols, market, count }) =>
        fc.record({
          market: fc.constant(market),
          count: fc.constant(count),
          symbols: fc.constant(symbols),
          timestamps: fc.float64Array({ minLength: n, maxLength: n }),
          series: fc.tuple(
            ...symbols.map((symbol) =>
              fc.record({
                symbol: fc.constant(symbol),
                ...Object.fromEntries(
                  FIELDS.map((f) => [f, fc.array(value, { minLength: n, maxLength: n })]),
                ),
              }),
            ),
          ),
        }),
      );

    // Act + Assess
    fc.assert(
      fc.property(arb, ({ market, count, symbols, timestamps, series }) => {
        const s: MarketSession = {
          date: '2013-10-08',
          market,
          symbols,
          timestamps,
          series: series.map((x) => {
            const columns = x as unknown as Record<string, number[]>;
            return {
              symbol: x.symbol,
              ...Object.fromEntries(FIELDS.map((f) => [f, Float64Array.from(columns[f] ?? [])])),
            };
          }) as unknown as MarketSession['series'],
        };
        expect(sessionDataHash(s, count)).toBe(referenceHash(s, count));
      }),
    );
  });
});

describe('sessionDataHash over a sequence of ticks', () => {
  it('equals the generic hash at every call: minutes added, fewer minutes, earlier bars changed', () => {
    // Prepare: two sessions hashed in turn (the column text is remembered between calls and
    // extended; any earlier bar that changed, or fewer minutes, must rebuild it)
    const value = fc.oneof(
      { weight: 8, arbitrary: fc.double({ min: 50, max: 150 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 0),
      },
    );
    const call = fc.record({
      which: fc.nat(1),
      count: fc.nat(40),
      change: fc.option(fc.record({ at: fc.nat(40), value }), { nil: null }),
    });
    // Act + Assess
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 40 }),
        fc.array(value, { minLength: 1, maxLength: 40 }),
        fc.array(call, { minLength: 1, maxLength: 30 }),
        (a, b, calls) => {
          const sessions = [closesSession(a), closesSession(b)];
          for (const c of calls) {
            let s = sessions[c.which] as MarketSession;
            const n = s.timestamps.length;
            if (c.change) {
              s = withClose(s, c.change.at % n, c.change.value);
              sessions[c.which] = s;
            }
            const count = c.count % (n + 1);
            expect(sessionDataHash(s, count)).toBe(referenceHash(s, count));
          }
        },
      ),
    );
  });
});

/** A one-symbol session with these closes (the other columns derived from them). */
function closesSession(closes: readonly number[]): MarketSession {
  const n = closes.length;
  const col = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const close = col((i) => closes[i] as number);
  return {
    date: '2013-10-08',
    market: 'equity-usa',
    symbols: ['SPY'],
    timestamps: col((i) => T0 + i * 60_000),
    series: [
      {
        symbol: 'SPY',
        open: close,
        high: col((i) => (closes[i] as number) + 0.01),
        low: col((i) => (closes[i] as number) - 0.01),
        close,
        volume: col((i) => i * 10),
        bid: col((i) => (closes[i] as number) - 0.005),
        ask: col((i) => (closes[i] as number) + 0.005),
        bidSize: col(() => 3),
        askSize: col(() => 4),
      },
    ],
  };
}

const FIELDS = ['open', 'high', 'low', 'close', 'volume', 'bid', 'ask', 'bidSize', 'askSize'];

/** The generic form of the session hash: valueHash of the plain document. */
function referenceHash(session: MarketSession, count?: number): string {
  const n = Math.max(0, Math.min(count ?? session.timestamps.length, session.timestamps.length));
  const column = (a: Float64Array) => Array.from(a.subarray(0, n));
  return valueHash({
    date: session.date,
    market: session.market,
    symbols: [...session.symbols],
    timestamps: column(session.timestamps),
    series: session.series.map((s) => ({
      symbol: s.symbol,
      ...Object.fromEntries(
        FIELDS.map((f) => [
          f,
          column((s as unknown as Record<string, Float64Array>)[f] as Float64Array),
        ]),
      ),
    })),
  });
}

describe('cohort_scored provenance', () => {
  const prepared = (bankrollUsd: number, barsHash: string) => ({
    config: parseCohortConfig({ bankrollUsd, agentCount: 4, seed: 7 }),
    symbols: ['SPY'],
    sessionDate: '2013-10-08',
    market: {
      barCount: 5,
      firstBarIso: new Date(T0).toISOString(),
      lastBarIso: new Date(T0 + 4 * 60_000).toISOString(),
      missingBars: { SPY: 1 },
      barsHash,
    },
    partialUpToIso: null,
    riskEstimates: { SPY: 0.01 },
  });
  const genomes = [{ id: 'g1' }, { id: 'g2' }];
  const bars = sessionDataHash(session());

  it('moves config_hash with the cohort config, data_hash with the bars or the genomes', () => {
    // Act
    const base = cohortProvenance(prepared(1_000, bars), genomes);
    const richer = cohortProvenance(prepared(2_000, bars), genomes);
    const otherBars = cohortProvenance(
      prepared(1_000, sessionDataHash(withClose(session(), 4, 101))),
      genomes,
    );
    const otherGenomes = cohortProvenance(prepared(1_000, bars), [{ id: 'g1' }, { id: 'g3' }]);

    // Assess
    expect(base.config_hash).toMatch(HEX64);
    expect(base.data_hash).toMatch(HEX64);
    expect(cohortProvenance(prepared(1_000, bars), genomes)).toEqual(base);
    expect(richer.config_hash).not.toBe(base.config_hash);
    expect(richer.data_hash).toBe(base.data_hash);
    expect(otherBars.config_hash).toBe(base.config_hash);
    expect(otherBars.data_hash).not.toBe(base.data_hash);
    expect(otherGenomes.data_hash).not.toBe(base.data_hash);
  });
});

describe('paper_decision provenance', () => {
  const state = (leverageCap: number) => ({
    genome: { id: 'g1', symbol: 'SPY' } as never,
    capitalUsd: 500,
    limits: { leverageCap, maxAggregateExposure: 1 } as never,
  });

  it('moves config_hash with the session limits, data_hash with the bars the tick read', () => {
    // Prepare
    const data = (s: MarketSession) => ({ bars_hash: sessionDataHash(s, 4), state: { ticks: 3 } });
    // Act
    const base = paperDecisionProvenance(state(2), data(session()));
    const capped = paperDecisionProvenance(state(3), data(session()));
    const moved = paperDecisionProvenance(state(2), data(withClose(session(), 3, 99)));
    // Assess
    expect(base.config_hash).toMatch(HEX64);
    expect(paperDecisionProvenance(state(2), data(session()))).toEqual(base);
    expect(capped.config_hash).not.toBe(base.config_hash);
    expect(capped.data_hash).toBe(base.data_hash);
    expect(moved.config_hash).toBe(base.config_hash);
    expect(moved.data_hash).not.toBe(base.data_hash);
  });
});
