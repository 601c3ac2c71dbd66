import { describe, expect, it } from 'vitest';
import {
  dsrGate,
  evaluateEvidenceGates,
  oosGate,
  psrGate,
} from '../../../functions/core/gates/evidence.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import { sharpeEvidence } from '../../../functions/core/scoring/sharpe-inference.js';

const T = DEFAULT_GATE_THRESHOLDS;

/** `n` session returns with mean `mu` and a fixed alternating spread. */
function returns(n: number, mu: number, spread: number): number[] {
  return Array.from({ length: n }, (_, i) => mu + (i % 2 === 0 ? spread : -spread));
}

describe('psr and dsr gates', () => {
  it('fail closed without a track record', () => {
    const [psr, dsr] = evaluateEvidenceGates(null, T);
    expect(psr).toMatchObject({ gate: 'psr', verdict: 'fail', observed: null });
    expect(dsr).toMatchObject({ gate: 'dsr', verdict: 'fail', observed: null });
  });

  it('record "insufficient evidence" with the numbers that fall short on 3 sessions', () => {
    // Prepare: three strong sessions: the PSR may be high, the sample is not enough.
    const e = sharpeEvidence({
      returns: [0.004, 0.006, 0.005],
      frequency: 'session',
      trials: 120,
      trialSharpes: [0.2, -0.1, 0.5],
      confidence: 0.95,
    });
    // Act
    const psr = psrGate(e, T);
    // Assess
    expect(psr.verdict).toBe('fail');
    expect(psr.reason).toMatch(/^insufficient evidence: 3 sessions < 20 required/);
    expect(psr.reason).toContain('n=3 session returns');
    expect(psr.reason).toContain('skewness');
    expect(psr.reason).toContain('kurtosis');
    expect(dsrGate(e, T).reason).toContain('of 120 trials');
  });

  it('pass a long, consistently positive record and fail the DSR when too many genomes were tried', () => {
    const r = returns(60, 0.003, 0.004);
    const few = sharpeEvidence({
      returns: r,
      frequency: 'session',
      trials: 1,
      trialSharpes: [],
      confidence: 0.95,
    });
    expect(psrGate(few, T).verdict).toBe('pass');
    expect(dsrGate(few, T).verdict).toBe('pass');
    const many = sharpeEvidence({
      returns: r,
      frequency: 'session',
      trials: 1_000_000,
      trialSharpes: [0.5, -0.5, 0.3, -0.3],
      confidence: 0.95,
    });
    expect(psrGate(many, T).verdict).toBe('pass');
    expect(dsrGate(many, T)).toMatchObject({ verdict: 'fail', breakerAction: 'none' });
  });
});

describe('oos gate (walk-forward)', () => {
  const oos = (n: number, meanReturn: number | null) => ({
    selectionCutoffDate: '2013-10-08',
    inSample: { n: 2, meanReturn: 0.01 },
    outOfSample: {
      n,
      meanReturn,
      sessionDates: Array.from(
        { length: n },
        (_, i) => `2013-10-${String(9 + i).padStart(2, '0')}`,
      ),
    },
  });

  it.each<[string, number, number | null, 'pass' | 'fail', RegExp]>([
    ['a positive session after the selection passes', 1, 0.004, 'pass', /positive out of sample$/],
    ['a loss out of sample fails', 1, -0.002, 'fail', /not positive out of sample$/],
    ['a flat out-of-sample record fails', 2, 0, 'fail', /not positive/],
    [
      'no session after the selection is insufficient evidence',
      0,
      null,
      'fail',
      /^insufficient evidence: 0 out-of-sample sessions < 1 required/,
    ],
  ])('%s', (_name, n, mean, verdict, reason) => {
    // Act
    const g = oosGate(oos(n, mean), T);
    // Assess
    expect(g).toMatchObject({ gate: 'oos', verdict, observed: mean, threshold: 0 });
    expect(g.reason).toMatch(reason);
    expect(g.reason).toContain('after 2013-10-08');
    expect(g.reason).toContain('in sample: n=2');
  });

  it('fails closed without an out-of-sample record, and runs after psr and dsr', () => {
    // Act
    const gates = evaluateEvidenceGates(null, T);
    // Assess
    expect(gates.map((g) => g.gate)).toEqual(['psr', 'dsr', 'oos', 'baseline']);
    expect(gates[2]).toMatchObject({ verdict: 'fail', observed: null });
    expect(gates[3]).toMatchObject({ verdict: 'fail', observed: null });
    expect(oosGate(oos(1, 0.01), { minOutOfSampleSessions: Number.NaN })).toMatchObject({
      verdict: 'fail',
      observed: null,
    });
  });
});
