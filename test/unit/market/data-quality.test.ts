/**
 * Data-quality rules of the session ingestion on crafted sessions: missing minutes (a halt),
 * non-positive prices, crossed quotes, false ticks (spike and revert), stale quotes, and an
 * early-close session's shorter window.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  assessSessionQuality,
  DEFAULT_QUALITY_RULES,
  type IngestedBar,
  type IngestedQuote,
  parseQualityRules,
} from '../../../functions/core/market/data-quality.js';

const OPEN = Date.parse('2026-06-01T13:30:00Z');
const CLOSE = Date.parse('2026-06-01T20:00:00Z');
const MIN = 60_000;

function session(minutes = 390, price = (_i: number) => 100) {
  const bars: IngestedBar[] = [];
  const quotes: IngestedQuote[] = [];
  for (let i = 0; i < minutes; i++) {
    const p = price(i);
    bars.push({ t: OPEN + i * MIN, open: p, high: p, low: p, close: p, volume: 100 });
    quotes.push({ t: OPEN + i * MIN + 30_000, bid: p - 0.01, ask: p + 0.01 });
  }
  return { bars, quotes };
}

describe('assessSessionQuality', () => {
  it('passes a full clean session', () => {
    const { bars, quotes } = session();
    const q = assessSessionQuality('X', bars, quotes, OPEN, CLOSE);
    expect(q).toMatchObject({
      status: 'ok',
      expectedMinutes: 390,
      barMinutes: 390,
      missingMinutes: 0,
      reasons: [],
    });
  });

  it('excludes a symbol halted for an hour and reports the longest gap', () => {
    const { bars, quotes } = session();
    const halted = bars.filter((_, i) => i < 100 || i >= 160);
    const q = assessSessionQuality('X', halted, quotes, OPEN, CLOSE);
    expect(q.missingMinutes).toBe(60);
    expect(q.longestGapMinutes).toBe(60);
    expect(q.status).toBe('excluded');
    expect(q.reasons[0]).toContain('60 of 390 minutes missing');
  });

  it('counts zero and negative prices and excludes the symbol', () => {
    const { bars, quotes } = session();
    bars[10] = { ...(bars[10] as IngestedBar), low: 0 };
    bars[11] = { ...(bars[11] as IngestedBar), close: -1 };
    const q = assessSessionQuality('X', bars, quotes, OPEN, CLOSE);
    expect(q.nonPositivePrices).toBe(2);
    expect(q.reasons.join()).toContain('zero, negative');
  });

  it('counts crossed quotes (bid > ask) against the fraction limit', () => {
    const { bars, quotes } = session();
    for (let i = 0; i < 10; i++)
      quotes[i] = { ...(quotes[i] as IngestedQuote), bid: 101, ask: 100 };
    const q = assessSessionQuality('X', bars, quotes, OPEN, CLOSE);
    expect(q.crossedQuotes).toBe(10);
    expect(q.status).toBe('excluded');
    const lenient = assessSessionQuality('X', bars, quotes, OPEN, CLOSE, {
      ...DEFAULT_QUALITY_RULES,
      maxCrossedQuoteFraction: 0.05,
    });
    expect(lenient.status).toBe('ok');
  });

  it('flags a spike that reverts as a false tick, not a move that stays', () => {
    const spike = session(390, (i) => (i === 200 ? 150 : 100));
    const level = session(390, (i) => (i >= 200 ? 150 : 100));
    expect(assessSessionQuality('X', spike.bars, spike.quotes, OPEN, CLOSE).falseTicks).toBe(1);
    expect(assessSessionQuality('X', level.bars, level.quotes, OPEN, CLOSE).falseTicks).toBe(0);
  });

  it('reports the longest run without a new quote and excludes beyond the limit', () => {
    const { bars, quotes } = session();
    const sparse = quotes.filter((_, i) => i < 50 || i >= 95);
    const q = assessSessionQuality('X', bars, sparse, OPEN, CLOSE);
    expect(q.staleQuoteMinutes).toBe(45);
    expect(q.reasons.join()).toContain('stale for 45 consecutive minutes');
  });

  it('measures an early close against its own shorter window (210 minutes)', () => {
    const { bars, quotes } = session(210);
    const q = assessSessionQuality('X', bars, quotes, OPEN, OPEN + 210 * MIN);
    expect(q).toMatchObject({ expectedMinutes: 210, missingMinutes: 0, status: 'ok' });
  });

  it('excludes a symbol with no bar at all', () => {
    const q = assessSessionQuality('X', [], [], OPEN, CLOSE);
    expect(q.reasons).toContain('no trade bar in the session');
  });
});

describe('parseQualityRules', () => {
  it('refuses a negative limit, naming the field', () => {
    expect(() => parseQualityRules({ maxFalseTicks: -1 })).toThrow(ValidationError);
    expect(() => parseQualityRules({ maxFalseTicks: -1 })).toThrow(/quality\.maxFalseTicks/);
  });
});
