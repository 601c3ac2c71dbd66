import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalCdf } from '../../../functions/core/risk/normal.js';
import {
  deflatedSharpeRatio,
  expectedMaxSharpe,
  minimumTrackRecordLength,
  probabilisticSharpeRatio,
  returnMoments,
  sharpeEvidence,
  sharpeWithPsr,
} from '../../../functions/core/scoring/sharpe-inference.js';

describe('normalCdf', () => {
  it('matches tabulated values of Φ', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(normalCdf(-1.6448536269514722)).toBeCloseTo(0.05, 12);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 12);
  });
});

describe('the Deflated Sharpe Ratio paper (Bailey & López de Prado 2014), numerical example', () => {
  // Section 4 of the paper: N = 100 independent trials, V[SR_n] = 1/2 annualized, the best
  // trial's annualized SR = 2.5 on T = 1,250 daily returns (five years), skewness −3 and
  // kurtosis 10; 250 observations a year. The paper reports E[max SR_n] = 0.1132
  // (non-annualized) and DSR = 0.9004.
  const perYear = 250;
  const sharpe = 2.5 / Math.sqrt(perYear);
  const varianceSharpe = 0.5 / perYear;

  it('gives the expected maximum Sharpe ratio of 100 trials: 0.1132 per day', () => {
    const sr0 = expectedMaxSharpe({ trials: 100, varianceSharpe });
    expect(Math.abs(sr0 - 0.1132)).toBeLessThan(5e-5);
  });

  it('gives DSR 0.9004', () => {
    const dsr = deflatedSharpeRatio({
      sharpe,
      n: 1250,
      skewness: -3,
      kurtosis: 10,
      trials: 100,
      trialSharpeVariance: varianceSharpe,
    });
    expect(Math.abs(dsr - 0.9004)).toBeLessThan(5e-5);
  });
});

describe('probabilisticSharpeRatio and minimumTrackRecordLength', () => {
  it('is Φ(SR·√(n−1)) for normal returns against SR* = 0', () => {
    const psr = probabilisticSharpeRatio({
      sharpe: 0.1,
      benchmarkSharpe: 0,
      n: 101,
      skewness: 0,
      kurtosis: 3,
    });
    // factor = 1 + 2/4 · 0.01 = 1.005; z = 0.1 · 10 / √1.005
    expect(psr).toBeCloseTo(normalCdf(1 / Math.sqrt(1.005)), 12);
  });

  it('reaches exactly the confidence at n = MinTRL (eq. 13 inverts eq. 11)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        fc.double({ min: -1.5, max: 0.5, noNaN: true }),
        fc.double({ min: 3, max: 12, noNaN: true }),
        fc.constantFrom(0.9, 0.95, 0.99),
        (sharpe, skewness, kurtosis, confidence) => {
          const n = minimumTrackRecordLength({
            sharpe,
            benchmarkSharpe: 0,
            skewness,
            kurtosis,
            confidence,
          });
          const psr = probabilisticSharpeRatio({
            sharpe,
            benchmarkSharpe: 0,
            n,
            skewness,
            kurtosis,
          });
          expect(Math.abs(psr - confidence)).toBeLessThan(1e-9);
        },
      ),
    );
  });

  it('needs an infinite track record when the Sharpe ratio does not beat the benchmark', () => {
    expect(
      minimumTrackRecordLength({
        sharpe: 0.1,
        benchmarkSharpe: 0.1,
        skewness: 0,
        kurtosis: 3,
        confidence: 0.95,
      }),
    ).toBe(Number.POSITIVE_INFINITY);
  });

  it('penalizes negative skewness and fat tails (a longer track record for the same SR)', () => {
    const base = { sharpe: 0.2, benchmarkSharpe: 0, confidence: 0.95 };
    const normal = minimumTrackRecordLength({ ...base, skewness: 0, kurtosis: 3 });
    const ugly = minimumTrackRecordLength({ ...base, skewness: -2, kurtosis: 10 });
    expect(ugly).toBeGreaterThan(normal);
  });

  it('is undefined (NaN) on fewer than two returns', () => {
    expect(
      probabilisticSharpeRatio({ sharpe: 1, benchmarkSharpe: 0, n: 1, skewness: 0, kurtosis: 3 }),
    ).toBeNaN();
  });
});

describe('deflated Sharpe ratio and the number of trials', () => {
  it('more trials never raise the DSR', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -0.5, max: 1, noNaN: true }),
        fc.integer({ min: 2, max: 500 }),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        (sharpe, n, variance, a, b) => {
          const [few, many] = a <= b ? [a, b] : [b, a];
          const at = (trials: number) =>
            deflatedSharpeRatio({
              sharpe,
              n,
              skewness: 0,
              kurtosis: 3,
              trials,
              trialSharpeVariance: variance,
            });
          expect(at(many)).toBeLessThanOrEqual(at(few));
        },
      ),
    );
  });

  it('equals the PSR against 0 with a single trial (nothing was selected)', () => {
    const args = { sharpe: 0.3, n: 30, skewness: -0.5, kurtosis: 4 };
    expect(deflatedSharpeRatio({ ...args, trials: 1, trialSharpeVariance: 0.2 })).toBe(
      probabilisticSharpeRatio({ ...args, benchmarkSharpe: 0 }),
    );
  });
});

describe('sharpeWithPsr', () => {
  it('is mean/stdev and PSR(0) of the series, and null below two returns', () => {
    expect(sharpeWithPsr([])).toBeNull();
    expect(sharpeWithPsr([0.01])).toBeNull();
    // [0.01, 0.03]: mean 0.02, sample sd 0.01·√2, SR = √2; two returns keep the normal
    // shape (γ3 = 0, γ4 = 3), so PSR(0) = Φ(SR·√1 / √(1 + SR²/2)) = Φ(1).
    const r = sharpeWithPsr([0.01, 0.03]);
    expect(r?.sharpe).toBeCloseTo(Math.SQRT2, 12);
    expect(r?.psr).toBeCloseTo(normalCdf(1), 12);
    expect(r?.moments.n).toBe(2);
  });
});

describe('returnMoments', () => {
  it('uses the moment estimators of skewness and (non-excess) kurtosis', () => {
    // Prepare: 1, 2, 3, 10: mean 4; deviations −3, −2, −1, 6
    // m2 = (9+4+1+36)/4 = 12.5; m3 = (−27−8−1+216)/4 = 45; m4 = (81+16+1+1296)/4 = 348.5
    const m = returnMoments([1, 2, 3, 10]);
    expect(m.mean).toBe(4);
    expect(m.stdev).toBeCloseTo(Math.sqrt(50 / 3), 12);
    expect(m.skewness).toBeCloseTo(45 / 12.5 ** 1.5, 12);
    expect(m.kurtosis).toBeCloseTo(348.5 / 156.25, 12);
  });

  it('falls back to the normal shape when there are too few returns', () => {
    expect(returnMoments([0.01, 0.02])).toMatchObject({ n: 2, skewness: 0, kurtosis: 3 });
  });
});

describe('sharpeEvidence', () => {
  it('states the frequency, sample size, shape, trials and both minimum track records', () => {
    const returns = [0.004, -0.002, 0.006, 0.001, -0.003, 0.005, 0.002];
    const e = sharpeEvidence({
      returns,
      frequency: 'session',
      trials: 40,
      trialSharpes: [0.1, -0.2, 0.4, 0.05],
      confidence: 0.95,
    });
    expect(e).toMatchObject({ frequency: 'session', n: 7, trials: 40, trialsWithSharpe: 4 });
    expect(e.trialSharpeVarianceSource).toBe('trials');
    expect(e.dsr as number).toBeLessThan(e.psr as number);
    expect(e.expectedMaxSharpe as number).toBeGreaterThan(0);
    expect(e.minTrackRecordLengthDeflated as number).toBeGreaterThan(
      e.minTrackRecordLength as number,
    );
  });

  it('falls back to the estimator variance 1/(n−1) with fewer than two trial Sharpe ratios', () => {
    const e = sharpeEvidence({
      returns: [0.01, 0.02, -0.005],
      frequency: 'session',
      trials: 12,
      trialSharpes: [0.3],
      confidence: 0.95,
    });
    expect(e.trialSharpeVarianceSource).toBe('estimator');
    expect(e.trialSharpeVariance).toBeCloseTo(0.5, 12);
  });

  it('has no PSR, DSR or track record length on one return (JSON-safe nulls)', () => {
    const e = sharpeEvidence({
      returns: [0.01],
      frequency: 'session',
      trials: 5,
      trialSharpes: [],
      confidence: 0.95,
    });
    expect(e).toMatchObject({ psr: null, dsr: null, expectedMaxSharpe: null });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });
});

describe('normalCdf in the tails', () => {
  it('matches Φ(−5) and Φ(−10) to relative 1e-12 and is monotone', () => {
    expect(Math.abs(normalCdf(-5) / 2.866515718791939e-7 - 1)).toBeLessThan(1e-12);
    expect(Math.abs(normalCdf(-10) / 7.619853024160527e-24 - 1)).toBeLessThan(1e-12);
    fc.assert(
      fc.property(
        fc.double({ min: -30, max: 30, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (z, d) => {
          expect(normalCdf(z + d)).toBeGreaterThanOrEqual(normalCdf(z));
        },
      ),
    );
  });
});
