import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InsufficientDataError, ValidationError } from '../../../functions/core/errors.js';
import type { DailyBar } from '../../../functions/core/market/types.js';
import { inverseNormalCdf, normalPdf } from '../../../functions/core/risk/normal.js';
import {
  historicalExpectedShortfall,
  historicalVar,
  logReturns,
  meanAndStdev,
  parametricExpectedShortfall,
  parametricVar,
  simpleReturns,
} from '../../../functions/core/risk/var.js';

// Ten returns whose losses on a 1,000 USD long are 50, 30, 20, 10, 0, -10, ..., -50.
const TEN = [-0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05];

describe('inverseNormalCdf (Acklam)', () => {
  it('matches the textbook quantiles', () => {
    // Prepare / Act / Assess
    expect(inverseNormalCdf(0.95)).toBeCloseTo(1.6449, 4);
    expect(inverseNormalCdf(0.99)).toBeCloseTo(2.3263, 4);
    expect(inverseNormalCdf(0.975)).toBeCloseTo(1.959964, 6);
    expect(inverseNormalCdf(0.5)).toBeCloseTo(0, 12);
    expect(inverseNormalCdf(0.001)).toBeCloseTo(-3.090232, 6);
    expect(inverseNormalCdf(0.9999)).toBeCloseTo(3.719016, 5);
  });

  it('is antisymmetric around 0.5 and increasing', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-8, max: 0.5, noNaN: true }),
        fc.double({ min: 1e-8, max: 0.5, noNaN: true }),
        (p, q) => {
          // Act
          const z = inverseNormalCdf(p);
          // Assess
          expect(inverseNormalCdf(1 - p)).toBeCloseTo(-z, 6);
          if (p < q) expect(inverseNormalCdf(p)).toBeLessThanOrEqual(inverseNormalCdf(q));
        },
      ),
    );
  });

  it('rejects probabilities outside (0, 1)', () => {
    for (const p of [0, 1, -0.1, 1.5, Number.NaN]) {
      expect(() => inverseNormalCdf(p)).toThrow(ValidationError);
    }
  });

  it('normalPdf is the standard normal density', () => {
    expect(normalPdf(0)).toBeCloseTo(0.398942, 6);
    expect(normalPdf(1.959964)).toBeCloseTo(0.058445, 6);
  });
});

describe('historical VaR / ES', () => {
  it('takes the ceil(alpha*n)-th smallest loss and the exact empirical tail mean', () => {
    // Prepare
    const long = { returns: TEN, positionNotionalUsd: 1000 };
    // Act / Assess: alpha 0.9 -> k = 9 -> second-worst loss 30; tail = worst loss 50
    expect(historicalVar({ ...long, confidence: 0.9 })).toBeCloseTo(30, 9);
    expect(historicalExpectedShortfall({ ...long, confidence: 0.9 })).toBeCloseTo(50, 9);
    // alpha 0.8 -> k = 8 -> 20; ES = mean(30, 50) = 40
    expect(historicalVar({ ...long, confidence: 0.8 })).toBeCloseTo(20, 9);
    expect(historicalExpectedShortfall({ ...long, confidence: 0.8 })).toBeCloseTo(40, 9);
    // alpha 0.85 -> k = ceil(8.5) = 9 -> 30; ES = (50 + 0.5 * 30) / 1.5
    expect(historicalVar({ ...long, confidence: 0.85 })).toBeCloseTo(30, 9);
    expect(historicalExpectedShortfall({ ...long, confidence: 0.85 })).toBeCloseTo(65 / 1.5, 9);
  });

  it('measures a short position on the rising returns', () => {
    // Prepare
    const short = { returns: TEN, positionNotionalUsd: -1000, confidence: 0.9 };
    // Act / Assess: losses are 1000 * r -> 50, 40 worst
    expect(historicalVar(short)).toBeCloseTo(40, 9);
    expect(historicalExpectedShortfall(short)).toBeCloseTo(50, 9);
  });

  it('rejects too few or non-finite observations', () => {
    expect(() =>
      historicalVar({ returns: [0.01], positionNotionalUsd: 1, confidence: 0.9 }),
    ).toThrow(InsufficientDataError);
    expect(() =>
      historicalVar({ returns: [0.01, Number.NaN], positionNotionalUsd: 1, confidence: 0.9 }),
    ).toThrow(ValidationError);
    expect(() => historicalVar({ returns: TEN, positionNotionalUsd: 1, confidence: 1 })).toThrow(
      ValidationError,
    );
  });
});

describe('parametric VaR / ES', () => {
  // mean 0, sample standard deviation exactly 0.02
  const FLAT = [0.02, 0, -0.02];

  it('is |N| sigma z - N mu', () => {
    // Prepare
    const input = { returns: FLAT, positionNotionalUsd: 1_000_000 };
    // Act / Assess
    expect(meanAndStdev(FLAT).stdev).toBeCloseTo(0.02, 12);
    expect(parametricVar({ ...input, confidence: 0.99 })).toBeCloseTo(1e6 * 0.02 * 2.326348, 0);
    expect(parametricVar({ ...input, confidence: 0.95 })).toBeCloseTo(1e6 * 0.02 * 1.644854, 0);
    // a +1 % mean daily return lowers the long's VaR by 10,000 USD
    expect(
      parametricVar({ returns: [0.03, 0.01, -0.01], positionNotionalUsd: 1e6, confidence: 0.99 }),
    ).toBeCloseTo(1e6 * 0.02 * 2.326348 - 10_000, 0);
  });

  it('ES is |N| sigma phi(z) / (1 - alpha) - N mu', () => {
    // Act
    const es = parametricExpectedShortfall({
      returns: FLAT,
      positionNotionalUsd: 1_000_000,
      confidence: 0.975,
    });
    // Assess: phi(1.959964) / 0.025 = 2.337803
    expect(es).toBeCloseTo(1e6 * 0.02 * 2.337803, 0);
  });

  it('is the same for a long and a short when the mean is zero', () => {
    const long = parametricVar({ returns: FLAT, positionNotionalUsd: 5000, confidence: 0.99 });
    const short = parametricVar({ returns: FLAT, positionNotionalUsd: -5000, confidence: 0.99 });
    expect(short).toBeCloseTo(long, 9);
  });
});

describe('ES >= VaR', () => {
  it('holds for historical and parametric estimates at the same confidence', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: -3000, max: 3000 }).map((bp) => bp / 10_000),
          { minLength: 2, maxLength: 80 },
        ),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.double({ min: 0.51, max: 0.999, noNaN: true }),
        (returns, positionNotionalUsd, confidence) => {
          // Prepare
          const input = { returns, positionNotionalUsd, confidence };
          const slack = 1e-9 * (1 + Math.abs(positionNotionalUsd));
          // Act / Assess
          expect(historicalExpectedShortfall(input)).toBeGreaterThanOrEqual(
            historicalVar(input) - slack,
          );
          expect(parametricExpectedShortfall(input)).toBeGreaterThanOrEqual(
            parametricVar(input) - slack,
          );
        },
      ),
    );
  });
});

describe('daily returns from bars', () => {
  const bar = (date: string, close: number): DailyBar => ({
    date,
    open: close,
    high: close,
    low: close,
    close,
    volume: 1000,
  });

  it('computes close-to-close simple and log returns', () => {
    // Prepare
    const bars = [bar('2021-01-04', 100), bar('2021-01-05', 110), bar('2021-01-06', 99)];
    // Act
    const simple = simpleReturns(bars);
    const logs = logReturns(bars);
    // Assess
    expect(simple).toHaveLength(2);
    expect(simple[0]).toBeCloseTo(0.1, 12);
    expect(simple[1]).toBeCloseTo(-0.1, 12);
    expect(logs[0]).toBeCloseTo(Math.log(1.1), 12);
    expect(logs[1]).toBeCloseTo(Math.log(0.9), 12);
  });

  it('rejects unsorted dates and non-positive closes', () => {
    expect(() => simpleReturns([bar('2021-01-05', 100), bar('2021-01-04', 101)])).toThrow(
      ValidationError,
    );
    expect(() => logReturns([bar('2021-01-04', 100), bar('2021-01-05', 0)])).toThrow(
      ValidationError,
    );
  });
});
