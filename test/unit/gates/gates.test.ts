import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agentDrawdownGate,
  aggregateExposureGate,
  dailyParticipationGate,
  dataStalenessGate,
  historicalEsGate,
  historicalVarGate,
  killSwitchGate,
  leverageGate,
  minTradeCountGate,
  minuteParticipationGate,
  parametricEsGate,
  parametricVarGate,
  parentDrawdownGate,
  promotionWindowGate,
  type RiskObservation,
  spreadGate,
  symbolExposureGate,
} from '../../../functions/core/gates/gates.js';
import {
  type GateThresholds,
  DEFAULT_GATE_THRESHOLDS as T,
} from '../../../functions/core/gates/thresholds.js';
import type { GateResult } from '../../../functions/core/gates/types.js';

let basePasses = 0;
let baseFailures = 0;

/** Monotonicity: if the better observation fails, the worse one must fail too. */
function expectMonotone(better: GateResult, worse: GateResult): void {
  if (better.verdict === 'fail') {
    baseFailures++;
    expect(worse.verdict).toBe('fail');
  } else {
    basePasses++;
  }
}

/** Runs a monotonicity property and checks it saw both passing and failing base cases. */
function assertMonotone<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>): void {
  basePasses = 0;
  baseFailures = 0;
  fc.assert(property, { numRuns: 200 });
  expect(baseFailures).toBeGreaterThan(0);
  expect(basePasses).toBeGreaterThan(0);
}

/**
 * Reals spread evenly over [min, max]. (`fc.double` spreads over float exponents, so most of
 * its draws are tiny, which would leave the gates passing and the properties vacuous.)
 */
const real = (min: number, max: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: 1_000_000 }).map((i) => min + ((max - min) * i) / 1_000_000);

const fraction = real(1e-4, 1);
const nonNeg = (max: number): fc.Arbitrary<number> => real(0, max);
const atLeastOne = real(1, 10);
const atMostOne = real(1e-3, 1);

describe('kill switch gate', () => {
  it('passes only when off; on, unknown and missing fail with flatten', () => {
    // Act / Assess
    expect(killSwitchGate({ state: 'off' }).verdict).toBe('pass');
    for (const state of ['on', 'unknown', null, undefined, 'maybe'] as const) {
      const r = killSwitchGate({ state: state as never });
      expect(r.verdict).toBe('fail');
      expect(r.breakerAction).toBe('flatten');
    }
    expect(killSwitchGate(undefined).verdict).toBe('fail');
    expect(killSwitchGate({ state: 'unknown' }).reason).toMatch(/unknown/);
  });

  it('is monotone over off < on, unknown', () => {
    const worse = ['on', 'unknown'] as const;
    for (const w of worse)
      expectMonotone(killSwitchGate({ state: 'off' }), killSwitchGate({ state: w }));
    expectMonotone(killSwitchGate({ state: 'on' }), killSwitchGate({ state: 'unknown' }));
    expect(killSwitchGate({ state: 'unknown' }).verdict).toBe('fail');
  });
});

describe('drawdown breakers', () => {
  it('compare the drawdown with the max, inclusive', () => {
    // Prepare
    const t = { ...T, maxParentDrawdownFraction: 0.1, maxAgentDrawdownFraction: 0.05 };
    // Act / Assess
    expect(parentDrawdownGate({ parentDrawdownFraction: 0.1 }, t).verdict).toBe('pass');
    const tripped = parentDrawdownGate({ parentDrawdownFraction: 0.1001 }, t);
    expect(tripped).toMatchObject({
      verdict: 'fail',
      observed: 0.1001,
      threshold: 0.1,
      breakerAction: 'flatten',
    });
    expect(agentDrawdownGate({ agentDrawdownFraction: 0.06 }, t)).toMatchObject({
      verdict: 'fail',
      breakerAction: 'reduce_only',
    });
  });

  it('are monotone (property)', () => {
    assertMonotone(
      fc.property(real(-0.5, 2), nonNeg(1), fraction, (dd, d, max) => {
        const t = { ...T, maxParentDrawdownFraction: max, maxAgentDrawdownFraction: max };
        expectMonotone(
          parentDrawdownGate({ parentDrawdownFraction: dd }, t),
          parentDrawdownGate({ parentDrawdownFraction: dd + d }, t),
        );
        expectMonotone(
          agentDrawdownGate({ agentDrawdownFraction: dd }, t),
          agentDrawdownGate({ agentDrawdownFraction: dd + d }, t),
        );
      }),
    );
  });
});

describe('VaR / ES gates', () => {
  const riskGates = [historicalVarGate, parametricVarGate, historicalEsGate, parametricEsGate];
  const thresholdsArb = fc.record({
    max: real(1e-4, 0.5),
    alpha: real(0.8, 0.995),
  });
  const tOf = ({ max, alpha }: { max: number; alpha: number }): GateThresholds => ({
    ...T,
    varMinObservations: 5,
    varConfidence: alpha,
    esConfidence: alpha,
    maxVar1dFraction: max,
    maxExpectedShortfall1dFraction: max,
  });
  /** A log-uniform scale in [1e-4, 1]. */
  const scaleArb = real(0, 4).map((u) => 10 ** -u);
  const returnsArb = fc.array(real(-0.2, 0.2), {
    minLength: 5,
    maxLength: 60,
  });

  it("report the strategy's one-session VaR as a fraction of its capital slice, computed by hand", () => {
    // Prepare: ten minute P&L figures per USD of allocation, a 4-minute session (m = 4, √m = 2).
    // Minute losses sorted: -0.05 ... 0.05; 90 % historical minute VaR = 9th = 0.03; session
    // VaR = 2 × 0.03 = 0.06 of the slice = 600 USD on a 10,000 USD slice.
    const obs: RiskObservation = {
      minuteReturns: [-0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05],
      minutesPerSession: 4,
      capitalSliceUsd: 10_000,
    };
    const t = { ...T, varMinObservations: 10, varConfidence: 0.9, maxVar1dFraction: 0.06 };
    // Act
    const r = historicalVarGate(obs, t);
    // Assess
    expect(r.verdict).toBe('pass');
    expect(r.observed).toBeCloseTo(0.06, 12);
    expect(r.unit).toBe('fraction of capital slice');
    expect(r.reason).toMatch(/600 USD on the 10000 USD slice, from 10 minute P&L observations/);
    expect(historicalVarGate(obs, { ...t, maxVar1dFraction: 0.0599 })).toMatchObject({
      verdict: 'fail',
      breakerAction: 'pause_entries',
    });
  });

  it('judge the worse of the pooled lookback and the latest session, by hand; either unmeasurable fails closed', () => {
    // Prepare: m = 4 (√m = 2), α = 0.9, ten observations per sample. Lookback of two sessions:
    // a calm one (losses up to 0.01) then the latest (losses up to 0.05).
    const calm = [-0.01, -0.01, -0.005, 0, 0, 0.005, 0.01, 0.01, 0.01, 0.01];
    const latest = [-0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05];
    const t = { ...T, varMinObservations: 10, varConfidence: 0.9, maxVar1dFraction: 0.07 };
    const obs: RiskObservation = {
      minuteReturns: [...calm, ...latest],
      lookbackSessions: 2,
      latestSessionMinuteReturns: latest,
      minutesPerSession: 4,
      capitalSliceUsd: 10_000,
    };
    // Act
    const r = historicalVarGate(obs, t);
    const pooledWorse = historicalVarGate(
      { ...obs, minuteReturns: [...latest, ...calm], latestSessionMinuteReturns: calm },
      t,
    );
    // Assess: the lower empirical quantile is the ⌈α·n⌉-th smallest loss. Pooled (n = 20):
    // losses from the largest 0.05, 0.03, 0.02, ... → 18th smallest = 3rd largest = 0.02 →
    // session 0.04. Latest alone (n = 10): 2nd largest = 0.03 → 0.06. Calm alone: 0.01 → 0.02.
    expect(r.observed).toBeCloseTo(0.06, 12);
    expect(r.verdict).toBe('pass');
    expect(r.reason).toMatch(/the latest session judged/);
    expect(pooledWorse.observed).toBeCloseTo(0.04, 12);
    expect(pooledWorse.reason).toMatch(
      /the worse of the lookback \(2 sessions pooled, 20 minute P&L observations\): 0\.04 and the latest session \(10 observations\): 0\.02; the lookback judged/,
    );
    // A stormy latest session after a calm lookback (pooled n = 40: 5th largest loss 0.01 →
    // 0.02): the latest session's 0.06 is judged and fails a 0.05 limit
    const stormy = historicalVarGate(
      {
        ...obs,
        minuteReturns: [...calm, ...calm, ...calm, ...latest],
        lookbackSessions: 4,
      },
      { ...t, maxVar1dFraction: 0.05 },
    );
    expect(stormy.observed).toBeCloseTo(0.06, 12);
    expect(stormy.verdict).toBe('fail');
    expect(stormy.reason).toMatch(/the latest session judged/);
    // Fail closed: several sessions without the latest one's minutes, or too few of them
    for (const bad of [undefined, null, [0.01, -0.01]]) {
      expect(historicalVarGate({ ...obs, latestSessionMinuteReturns: bad }, t)).toMatchObject({
        verdict: 'fail',
        observed: null,
      });
    }
    expect(historicalVarGate({ ...obs, lookbackSessions: 0 }, t).verdict).toBe('fail');
  });

  it('state the underlying view (open-to-close history at the max intraday exposure) beside the verdict, never as it', () => {
    // Prepare: the same strategy P&L; an underlying whose worst session fell 10 %
    const base: RiskObservation = {
      minuteReturns: [-0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05],
      minutesPerSession: 4,
      capitalSliceUsd: 10_000,
    };
    const t = { ...T, varMinObservations: 10, varConfidence: 0.9, maxVar1dFraction: 0.06 };
    const withUnderlying: RiskObservation = {
      ...base,
      underlyingIntradayReturns: [-0.1, -0.02, -0.01, 0, 0, 0.01, 0.01, 0.02, 0.02, 0.03],
      maxIntradayExposureFraction: 0.5,
      historyNote: 'history adjusted for split and dividend',
    };
    // Act
    const r = historicalVarGate(withUnderlying, t);
    // Assess: 90 % VaR of the underlying at 5,000 USD: 9th loss of (-0.1 … 0.03) × 5,000 = 100
    // USD = 0.01 of the slice; stressed: 0.10 × 5,000 = 500 USD. The verdict is the strategy's.
    expect(r.observed).toBeCloseTo(0.06, 12);
    expect(r.reason).toMatch(
      /underlying view \(open-to-close, 10 sessions, history adjusted for split and dividend, at the max intraday exposure 5000 USD\): 0\.01 of the slice \(100 USD\); stressed \(worst session of the history\): 500 USD/,
    );
    expect(historicalVarGate({ ...base, historyNote: 'no history: x' }, t).reason).toMatch(
      /underlying view: no usable history, no history: x/,
    );
  });

  it('parametric gates: m·μ and √m·σ of the minute P&L, by hand', () => {
    // Prepare: minute P&L 0.01, -0.01, 0.02, -0.02 (μ = 0, σ = √(0.001/3)); m = 100 minutes
    const obs: RiskObservation = {
      minuteReturns: [0.01, -0.01, 0.02, -0.02],
      minutesPerSession: 100,
      capitalSliceUsd: 1_000,
    };
    const sigma = Math.sqrt(0.001 / 3);
    const t = { ...T, varMinObservations: 4, varConfidence: 0.99, esConfidence: 0.975 };
    // Act / Assess: z(0.99) = 2.326348; φ(z(0.975)) / 0.025 = 2.337803
    expect(parametricVarGate(obs, t).observed).toBeCloseTo(10 * sigma * 2.3263479, 6);
    expect(parametricEsGate(obs, t).observed).toBeCloseTo(10 * sigma * 2.3378027, 6);
    // A mean of +0.001 per minute lowers the session VaR by m·μ = 0.1
    const drift = { ...obs, minuteReturns: obs.minuteReturns?.map((r) => r + 0.001) };
    expect(parametricVarGate(drift, t).observed).toBeCloseTo(10 * sigma * 2.3263479 - 0.1, 6);
  });

  it('an early-close session needs its own minutes, not varMinObservations of them', () => {
    const returns = Array.from({ length: 210 }, (_, i) => (i % 2 === 0 ? 0.0001 : -0.0001));
    const t = { ...T, varMinObservations: 250 };
    const obs = { minuteReturns: returns, minutesPerSession: 210, capitalSliceUsd: 1_000 };
    expect(historicalVarGate(obs, t).observed).not.toBeNull();
    expect(historicalVarGate({ ...obs, minutesPerSession: 390 }, t)).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
  });

  it('fail closed on short, missing or non-finite minute P&L, session length or slice', () => {
    // Prepare
    const ok: RiskObservation = {
      minuteReturns: [0.01, -0.01, 0.02, -0.02, 0],
      minutesPerSession: 5,
      capitalSliceUsd: 1e6,
    };
    const t = tOf({ max: 0.5, alpha: 0.9 });
    const bad: RiskObservation[] = [
      { ...ok, minuteReturns: [0.01, 0.02] },
      { ...ok, minuteReturns: null },
      { ...ok, minuteReturns: [0.01, Number.NaN, 0, 0, 0] },
      { ...ok, minutesPerSession: undefined },
      { ...ok, minutesPerSession: 2.5 },
      { ...ok, capitalSliceUsd: 0 },
      { ...ok, capitalSliceUsd: Number.POSITIVE_INFINITY },
    ];
    for (const gate of riskGates) {
      // Act / Assess
      expect(gate(ok, t).verdict).toBe('pass');
      for (const b of bad) expect(gate(b, t)).toMatchObject({ verdict: 'fail', observed: null });
    }
  });

  it('historical gates are monotone in pointwise worse minute P&L (property)', () => {
    assertMonotone(
      fc.property(
        returnsArb.chain((r) =>
          fc.tuple(
            fc.constant(r),
            fc.array(nonNeg(0.1), { minLength: r.length, maxLength: r.length }),
          ),
        ),
        fc.integer({ min: 60, max: 390 }),
        real(1e3, 1e6),
        thresholdsArb,
        scaleArb,
        ([raw, deltas], m, slice, th, k) => {
          // Prepare: minute P&L over four orders of magnitude (so the base passes as well as
          // fails); every minute then loses more
          const returns = raw.map((r) => r * k);
          const worse = returns.map((r, i) => r - k * (deltas[i] as number));
          const t = tOf(th);
          for (const gate of [historicalVarGate, historicalEsGate]) {
            // Act / Assess
            expectMonotone(
              gate({ minuteReturns: returns, minutesPerSession: m, capitalSliceUsd: slice }, t),
              gate({ minuteReturns: worse, minutesPerSession: m, capitalSliceUsd: slice }, t),
            );
          }
        },
      ),
    );
  });

  it('parametric gates are monotone in an adverse mean shift (property)', () => {
    assertMonotone(
      fc.property(
        returnsArb,
        fc.oneof(fc.constant(0), real(1e-6, 0.1)),
        fc.integer({ min: 60, max: 390 }),
        real(1e3, 1e6),
        thresholdsArb,
        (returns, shift, m, slice, th) => {
          const worse = returns.map((r) => r - shift);
          const t = tOf(th);
          for (const gate of [parametricVarGate, parametricEsGate]) {
            expectMonotone(
              gate({ minuteReturns: returns, minutesPerSession: m, capitalSliceUsd: slice }, t),
              gate({ minuteReturns: worse, minutesPerSession: m, capitalSliceUsd: slice }, t),
            );
          }
        },
      ),
    );
  });

  it('all risk gates are monotone in a larger exposure (minute P&L scaled up, property)', () => {
    assertMonotone(
      fc.property(
        returnsArb,
        atLeastOne,
        fc.integer({ min: 60, max: 390 }),
        real(1e3, 1e6),
        thresholdsArb,
        (returns, k, m, slice, th) => {
          const t = tOf(th);
          for (const gate of riskGates) {
            expectMonotone(
              gate({ minuteReturns: returns, minutesPerSession: m, capitalSliceUsd: slice }, t),
              gate(
                {
                  minuteReturns: returns.map((r) => r * k),
                  minutesPerSession: m,
                  capitalSliceUsd: slice,
                },
                t,
              ),
            );
          }
        },
      ),
    );
  });
});

describe('exposure and leverage gates', () => {
  const positionsArb = fc.uniqueArray(
    fc.record({
      symbol: fc.constantFrom('SPY', 'IBM', 'BAC', 'AIG', 'QQQ', 'IWM'),
      notionalUsd: real(-1e5, 1e5),
    }),
    { selector: (p) => p.symbol, maxLength: 6 },
  );

  it('net rows per symbol and measure the largest and the gross exposure', () => {
    // Prepare
    const obs = {
      positions: [
        { symbol: 'SPY', notionalUsd: 30_000 },
        { symbol: 'SPY', notionalUsd: -10_000 },
        { symbol: 'IBM', notionalUsd: -15_000 },
      ],
      capitalUsd: 100_000,
    };
    // Act
    const sym = symbolExposureGate(obs, { maxSymbolExposureFraction: 0.2 });
    const agg = aggregateExposureGate(obs, { maxAggregateExposureFraction: 0.3 });
    // Assess
    expect(sym).toMatchObject({ verdict: 'pass', observed: 0.2 });
    expect(sym.reason).toMatch(/SPY/);
    expect(agg).toMatchObject({ verdict: 'fail', observed: 0.35, breakerAction: 'reduce_only' });
    expect(symbolExposureGate({ positions: [], capitalUsd: 1 }, T).verdict).toBe('pass');
  });

  it('are monotone in larger positions and smaller capital (property)', () => {
    assertMonotone(
      fc.property(
        positionsArb,
        fc.nat(),
        atLeastOne,
        atMostOne,
        real(1e3, 1e6),
        fraction,
        (positions, pick, k, c, capital, max) => {
          const t = { ...T, maxSymbolExposureFraction: max, maxAggregateExposureFraction: max };
          const i = positions.length === 0 ? -1 : pick % positions.length;
          const bigger = positions.map((p, j) =>
            j === i ? { ...p, notionalUsd: p.notionalUsd * k } : p,
          );
          for (const gate of [symbolExposureGate, aggregateExposureGate]) {
            const base = gate({ positions, capitalUsd: capital }, t);
            expectMonotone(base, gate({ positions: bigger, capitalUsd: capital }, t));
            expectMonotone(base, gate({ positions, capitalUsd: capital * c }, t));
          }
        },
      ),
    );
  });

  it('leverage is gross / equity; non-positive equity fails closed', () => {
    expect(
      leverageGate({ grossNotionalUsd: 30_000, equityUsd: 10_000 }, { maxLeverage: 3 }),
    ).toMatchObject({
      verdict: 'pass',
      observed: 3,
    });
    expect(
      leverageGate({ grossNotionalUsd: 30_000, equityUsd: 0 }, { maxLeverage: 3 }),
    ).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
  });

  it('leverage is monotone (property)', () => {
    assertMonotone(
      fc.property(
        nonNeg(1e6),
        nonNeg(1e6),
        real(1, 1e6),
        atMostOne,
        atLeastOne,
        (gross, d, equity, c, max) => {
          const t = { maxLeverage: max };
          const base = leverageGate({ grossNotionalUsd: gross, equityUsd: equity }, t);
          expectMonotone(base, leverageGate({ grossNotionalUsd: gross + d, equityUsd: equity }, t));
          expectMonotone(base, leverageGate({ grossNotionalUsd: gross, equityUsd: equity * c }, t));
        },
      ),
    );
  });
});

describe('minimum trade count gate', () => {
  it('needs at least the minimum; fewer trades is worse (property)', () => {
    expect(minTradeCountGate({ tradeCount: 10 }, { minTradeCount: 10 }).verdict).toBe('pass');
    expect(minTradeCountGate({ tradeCount: 9 }, { minTradeCount: 10 })).toMatchObject({
      verdict: 'fail',
      breakerAction: 'none',
    });
    assertMonotone(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(100), (count, d, min) => {
        const t = { minTradeCount: min };
        expectMonotone(
          minTradeCountGate({ tradeCount: count }, t),
          minTradeCountGate({ tradeCount: count - d }, t),
        );
      }),
    );
  });
});

describe('liquidity gates', () => {
  it('measure participation and the quoted spread in bps', () => {
    // Prepare
    const liq = {
      orderQty: 500,
      minuteVolume: 10_000,
      dailyVolume: 1_000_000,
      bidUsd: 99.9,
      askUsd: 100.1,
    };
    // Act / Assess
    expect(
      minuteParticipationGate(liq, { maxMinuteVolumeParticipationFraction: 0.05 }),
    ).toMatchObject({
      verdict: 'pass',
      observed: 0.05,
    });
    expect(
      dailyParticipationGate(liq, { maxDailyVolumeParticipationFraction: 0.0001 }).verdict,
    ).toBe('fail');
    const spread = spreadGate(liq, { maxQuotedSpreadBps: 20 });
    expect(spread.verdict).toBe('pass');
    expect(spread.observed).toBeCloseTo(20, 9);
    expect(spreadGate(liq, { maxQuotedSpreadBps: 19.9 }).verdict).toBe('fail');
  });

  it('fail on zero volume and on crossed or missing quotes', () => {
    expect(minuteParticipationGate({ orderQty: 1, minuteVolume: 0 }, T)).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
    expect(spreadGate({ bidUsd: 100.2, askUsd: 100.1 }, T)).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
    expect(spreadGate({ bidUsd: null, askUsd: 100.1 }, T).verdict).toBe('fail');
  });

  it('are monotone in bigger orders, thinner volume and wider quotes (property)', () => {
    assertMonotone(
      fc.property(
        nonNeg(1e5),
        nonNeg(1e7),
        atLeastOne,
        atMostOne,
        fraction,
        (qty, volume, k, c, max) => {
          const tm = { maxMinuteVolumeParticipationFraction: max };
          const td = { maxDailyVolumeParticipationFraction: max };
          const base = minuteParticipationGate({ orderQty: qty, minuteVolume: volume }, tm);
          expectMonotone(
            base,
            minuteParticipationGate({ orderQty: qty * k, minuteVolume: volume }, tm),
          );
          expectMonotone(
            base,
            minuteParticipationGate({ orderQty: qty, minuteVolume: volume * c }, tm),
          );
          const daily = dailyParticipationGate({ orderQty: qty, dailyVolume: volume }, td);
          expectMonotone(
            daily,
            dailyParticipationGate({ orderQty: qty * k, dailyVolume: volume * c }, td),
          );
        },
      ),
    );
    assertMonotone(
      fc.property(
        real(1, 1000),
        nonNeg(5),
        nonNeg(5),
        nonNeg(5),
        real(0.1, 500),
        (bid, spread, lower, raise, max) => {
          const t = { maxQuotedSpreadBps: max };
          const base = spreadGate({ bidUsd: bid, askUsd: bid + spread }, t);
          expectMonotone(
            base,
            spreadGate({ bidUsd: bid - lower, askUsd: bid + spread + raise }, t),
          );
        },
      ),
    );
  });
});

describe('data staleness gate', () => {
  const now = Date.UTC(2024, 2, 12, 15, 0);

  it('measures the bar age in seconds against the injected now', () => {
    expect(
      dataStalenessGate({ lastBarMs: now - 120_000 }, now, { maxBarAgeSeconds: 120 }),
    ).toMatchObject({
      verdict: 'pass',
      observed: 120,
      unit: 'seconds',
    });
    expect(
      dataStalenessGate({ lastBarMs: now - 121_000 }, now, { maxBarAgeSeconds: 120 }).verdict,
    ).toBe('fail');
    expect(dataStalenessGate({ lastBarMs: now + 5_000 }, now, T)).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
  });

  it('is monotone in older bars (property)', () => {
    assertMonotone(
      fc.property(nonNeg(1e6), nonNeg(1e6), real(1, 3600), (ageMs, d, max) => {
        const t = { maxBarAgeSeconds: max };
        expectMonotone(
          dataStalenessGate({ lastBarMs: now - ageMs }, now, t),
          dataStalenessGate({ lastBarMs: now - ageMs - d }, now, t),
        );
      }),
    );
  });
});

describe('promotion window gate', () => {
  const t = { promotionWindowOpenNy: '09:45', promotionWindowCloseNy: '15:30' };

  it('uses New York time across EST and EDT, open inclusive, close exclusive', () => {
    // Prepare: 2024-01-10 is EST (UTC-5), 2024-03-11 (day after spring forward) is EDT (UTC-4)
    const cases: [number, 'pass' | 'fail', string][] = [
      [Date.UTC(2024, 0, 10, 14, 45), 'pass', '2024-01-10 09:45'],
      [Date.UTC(2024, 0, 10, 14, 44), 'fail', '2024-01-10 09:44'],
      [Date.UTC(2024, 0, 10, 20, 30), 'fail', '2024-01-10 15:30'],
      [Date.UTC(2024, 2, 11, 13, 45), 'pass', '2024-03-11 09:45'],
      [Date.UTC(2024, 2, 11, 19, 29), 'pass', '2024-03-11 15:29'],
      [Date.UTC(2024, 10, 4, 14, 45), 'pass', '2024-11-04 09:45'],
    ];
    for (const [nowMs, verdict, local] of cases) {
      // Act
      const r = promotionWindowGate({ isTradingDay: true }, nowMs, t);
      // Assess
      expect(r.verdict).toBe(verdict);
      expect(r.observed).toBe(local);
      expect(r.threshold).toBe('09:45-15:30');
    }
  });

  it('fails on a non-trading day and on a missing flag', () => {
    const inside = Date.UTC(2024, 0, 10, 15, 0);
    expect(promotionWindowGate({ isTradingDay: false }, inside, t)).toMatchObject({
      verdict: 'fail',
      breakerAction: 'none',
    });
    expect(promotionWindowGate({ isTradingDay: null }, inside, t)).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
  });

  it('passes iff a trading day and the New York minute is in [open, close) (property)', () => {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
    });
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2015, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.boolean(),
        (nowMs, isTradingDay) => {
          // Prepare: an oracle independent of @date-fns/tz
          const parts = fmt.formatToParts(nowMs);
          const hour = Number(parts.find((p) => p.type === 'hour')?.value);
          const minute = Number(parts.find((p) => p.type === 'minute')?.value);
          const m = hour * 60 + minute;
          const expected = isTradingDay && m >= 9 * 60 + 45 && m < 15 * 60 + 30;
          // Act
          const r = promotionWindowGate({ isTradingDay }, nowMs, t);
          // Assess
          expect(r.verdict).toBe(expected ? 'pass' : 'fail');
        },
      ),
    );
  });
});

describe('promotion window gate on the crypto calendar', () => {
  const t = {
    promotionWindowOpenNy: '09:45',
    promotionWindowCloseNy: '15:30',
    cryptoPromotionWindowOpenUtc: '00:30',
    cryptoPromotionWindowCloseUtc: '23:00',
  };

  it('reads the crypto window in UTC, every day (a Sunday and an NYSE holiday included)', () => {
    const cases: [number, 'pass' | 'fail', string][] = [
      // Sunday 2017-09-03, 01:00 UTC: NYSE closed (and 21:00 the day before in New York).
      [Date.UTC(2017, 8, 3, 1, 0), 'pass', '2017-09-03 01:00'],
      // Labor Day 2017-09-04, 00:29 UTC: before the window.
      [Date.UTC(2017, 8, 4, 0, 29), 'fail', '2017-09-04 00:29'],
      [Date.UTC(2017, 8, 4, 0, 30), 'pass', '2017-09-04 00:30'],
      [Date.UTC(2017, 8, 4, 22, 59), 'pass', '2017-09-04 22:59'],
      [Date.UTC(2017, 8, 4, 23, 0), 'fail', '2017-09-04 23:00'],
    ];
    for (const [nowMs, verdict, local] of cases) {
      const r = promotionWindowGate({ isTradingDay: true, market: 'crypto' }, nowMs, t);
      expect(r.verdict).toBe(verdict);
      expect(r.observed).toBe(local);
      expect(r.threshold).toBe('00:30-23:00');
      expect(r.unit).toBe('UTC local time');
    }
  });

  it('fails closed for crypto when no crypto window is configured', () => {
    const r = promotionWindowGate(
      { isTradingDay: true, market: 'crypto' },
      Date.UTC(2017, 8, 4, 12, 0),
      { promotionWindowOpenNy: '09:45', promotionWindowCloseNy: '15:30' },
    );
    expect(r).toMatchObject({ verdict: 'fail', observed: null });
    expect(r.reason).toMatch(/no promotion window configured for crypto/);
  });

  it('keeps the New York window for equities whatever the crypto window says', () => {
    // 2024-01-10 12:00 UTC is 07:00 New York: outside 09:45-15:30, inside the UTC window.
    const r = promotionWindowGate({ isTradingDay: true }, Date.UTC(2024, 0, 10, 12, 0), t);
    expect(r).toMatchObject({ verdict: 'fail', observed: '2024-01-10 07:00' });
  });
});

describe('overflowing observations', () => {
  it('fail closed instead of comparing a non-finite measure', () => {
    // Prepare: minute P&L so large the session VaR overflows to Infinity
    const obs: RiskObservation = {
      minuteReturns: [-1e308, 1e308, -1e308, 1e308, -1e308],
      minutesPerSession: 390,
      capitalSliceUsd: 1,
    };
    const t = { ...T, varMinObservations: 5 };
    // Act / Assess
    expect(historicalVarGate(obs, t)).toMatchObject({ verdict: 'fail', observed: null });
    expect(parametricEsGate(obs, t)).toMatchObject({ verdict: 'fail', observed: null });
  });
});
