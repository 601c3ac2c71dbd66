import { describe, expect, it } from 'vitest';
import { compareWithBaselines } from '../../../functions/core/gates/baseline.js';
import {
  classifyEvidenceFailures,
  dsrGate,
  evaluateEvidenceGates,
  fullRecordWithoutEdge,
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

describe('classifyEvidenceFailures: a shortfall of evidence vs evidence against the candidate', () => {
  /** Three sessions; out of sample: the candidate's returns on the dates after 2013-10-07. */
  function evidence(oosReturns: readonly number[], buyAndHold: number) {
    const dates = oosReturns.map((_, i) => `2013-10-${String(8 + i).padStart(2, '0')}`);
    const all = [0.003, ...oosReturns];
    const sharpe = sharpeEvidence({
      returns: all,
      frequency: 'session',
      trials: 30,
      trialSharpes: [0.1, -0.2, 0.3],
      confidence: 0.95,
    });
    const mean = (xs: readonly number[]) =>
      xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    return {
      ...sharpe,
      selectionCutoffDate: '2013-10-07',
      inSample: { n: 1, meanReturn: 0.003 },
      outOfSample: { n: oosReturns.length, meanReturn: mean(oosReturns), sessionDates: dates },
      baselines: compareWithBaselines(
        'IBM',
        dates.map((sessionDate, i) => ({
          sessionDate,
          sessionReturn: oosReturns[i] as number,
          baselines: [
            { baseline: 'flat' as const, symbol: null, sessionReturn: 0 },
            { baseline: 'buy_and_hold' as const, symbol: 'IBM', sessionReturn: buyAndHold },
          ],
        })),
      ),
    };
  }
  const names = (rs: readonly { gate: string }[]) => rs.map((r) => r.gate);

  it('a short record that beats the baselines out of sample fails only as a shortfall (psr, dsr)', () => {
    // Prepare: positive out of sample, above flat and above buy-and-hold (0.1%)
    const e = evidence([0.004, 0.006], 0.001);
    // Act
    const results = evaluateEvidenceGates(e, T);
    const c = classifyEvidenceFailures(results, e, T);
    // Assess
    expect(results.map((r) => [r.gate, r.verdict])).toEqual([
      ['psr', 'fail'],
      ['dsr', 'fail'],
      ['oos', 'pass'],
      ['baseline', 'pass'],
    ]);
    expect(names(c.shortfall)).toEqual(['psr', 'dsr']);
    expect(c.against).toEqual([]);
  });

  it('a measured out-of-sample loss (below flat) is evidence against: oos and baseline', () => {
    // Prepare: the shared week's shape: -0.104% per session over two paper sessions
    const e = evidence([-0.0015, -0.00058], -0.002);
    // Act
    const c = classifyEvidenceFailures(evaluateEvidenceGates(e, T), e, T);
    // Assess
    expect(names(c.shortfall)).toEqual(['psr', 'dsr']);
    expect(names(c.against)).toEqual(['oos', 'baseline']);
    expect(c.against[0]?.reason).toMatch(/not positive out of sample$/);
  });

  it('a gain below the buy-and-hold of its symbol is evidence against (baseline) even with oos passing', () => {
    const e = evidence([0.002, 0.002], 0.005);
    const c = classifyEvidenceFailures(evaluateEvidenceGates(e, T), e, T);
    expect(names(c.against)).toEqual(['baseline']);
    expect(c.against[0]).toMatchObject({ observed: 0.002, threshold: 0.005 });
  });

  it('fewer out-of-sample sessions than required is a shortfall, whatever their mean', () => {
    // Prepare: one losing session where three are required
    const t = { ...T, minOutOfSampleSessions: 3 };
    const e = evidence([-0.01], 0);
    // Act
    const results = evaluateEvidenceGates(e, t);
    const c = classifyEvidenceFailures(results, e, t);
    // Assess: oos says insufficient evidence; baseline measured a loss but on too few sessions
    expect(names(results.filter((r) => r.verdict === 'fail'))).toEqual([
      'psr',
      'dsr',
      'oos',
      'baseline',
    ]);
    expect(names(c.shortfall)).toEqual(['psr', 'dsr', 'oos', 'baseline']);
    expect(c.against).toEqual([]);
    // No out-of-sample session at all: a shortfall too
    const none = evidence([], 0);
    expect(
      names(classifyEvidenceFailures(evaluateEvidenceGates(none, T), none, T).against),
    ).toEqual([]);
  });

  it('fails closed as evidence against: a missing threshold, a missing comparison, a session without its baseline', () => {
    const e = evidence([0.004, 0.006], 0.001);
    // A missing threshold: every failed gate is against
    const noMin = { ...T, minPsr: Number.NaN, minOutOfSampleSessions: Number.NaN };
    const broken = classifyEvidenceFailures(evaluateEvidenceGates(e, noMin), e, noMin);
    expect(names(broken.against)).toEqual(['psr', 'oos']);
    // No out-of-sample part, no baseline comparison
    const none = classifyEvidenceFailures(evaluateEvidenceGates(null, T), null, T);
    expect(names(none.against)).toEqual(['oos', 'baseline']);
    expect(names(none.shortfall)).toEqual(['psr', 'dsr']);
    // A session without its baseline figure
    const missing = {
      ...e,
      baselines: { ...e.baselines, missingDates: ['2013-10-09'] },
    };
    const c = classifyEvidenceFailures(evaluateEvidenceGates(missing, T), missing, T);
    expect(names(c.against)).toEqual(['baseline']);
  });
});

describe('psr / dsr on a full track record: a non-positive Sharpe ratio is evidence against', () => {
  /** `n` sessions with mean `mu` (alternating spread 0.004), trials with a spread of Sharpes. */
  const record = (n: number, mu: number) =>
    sharpeEvidence({
      returns: returns(n, mu, 0.004),
      frequency: 'session',
      trials: 30,
      trialSharpes: [0.1, -0.2, 0.3],
      confidence: 0.95,
    });
  const classify = (e: ReturnType<typeof record>, t = T) =>
    classifyEvidenceFailures(evaluateEvidenceGates(e, t), e, t);
  const names = (rs: readonly { gate: string }[]) => rs.map((r) => r.gate);

  it('a full record (20 sessions) with a negative Sharpe ratio: psr and dsr are against, and say why', () => {
    // Prepare: mean -0.1% per session, 20 sessions = minEvidenceSessions
    const e = record(20, -0.001);
    expect(e.sharpe).toBeLessThan(0);
    expect(e.psr).toBeLessThan(0.5);
    // Act
    const c = classify(e);
    // Assess
    expect(names(c.against)).toEqual(expect.arrayContaining(['psr', 'dsr']));
    expect(names(c.shortfall)).not.toContain('psr');
    expect(names(c.shortfall)).not.toContain('dsr');
    expect(psrGate(e, T).reason).toMatch(
      /is below min 0\.95; Sharpe ratio not positive on a full record \(PSR\(0\) <= 0\.5\): evidence against/,
    );
    expect(psrGate(e, T).reason).toContain('never sessions needed');
  });

  it('a full record whose Sharpe ratio is exactly 0 (a genome that never traded) is against too', () => {
    const flat = sharpeEvidence({
      returns: Array.from({ length: 25 }, () => 0),
      frequency: 'session',
      trials: 30,
      trialSharpes: [0.1, -0.2, 0.3],
      confidence: 0.95,
    });
    expect(flat.sharpe).toBe(0);
    expect(flat.psr).toBe(0.5);
    expect(fullRecordWithoutEdge(flat, T)).toBe(true);
    expect(names(classify(flat).against)).toEqual(expect.arrayContaining(['psr', 'dsr']));
  });

  it('a full record with a positive Sharpe ratio below the PSR threshold stays a shortfall (a longer record could pass)', () => {
    // Prepare: mean +0.04% per session, spread 0.4%: PSR(0) between 0.5 and 0.95
    const e = record(20, 0.0004);
    expect(e.psr).toBeGreaterThan(0.5);
    expect(e.psr).toBeLessThan(T.minPsr);
    // Act
    const c = classify(e);
    // Assess
    expect(names(c.shortfall)).toEqual(expect.arrayContaining(['psr', 'dsr']));
    expect(names(c.against)).not.toContain('psr');
    expect(psrGate(e, T).reason).not.toContain('evidence against');
  });

  it('a short record (19 < 20 sessions) with a negative Sharpe ratio stays a shortfall', () => {
    const e = record(19, -0.001);
    expect(e.sharpe).toBeLessThan(0);
    const c = classify(e);
    expect(names(c.shortfall)).toEqual(expect.arrayContaining(['psr', 'dsr']));
    expect(names(c.against)).not.toContain('psr');
    expect(psrGate(e, T).reason).toMatch(/^insufficient evidence: 19 sessions < 20 required/);
  });

  it('follows minEvidenceSessions, and needs the record size and Sharpe ratio to call a record full', () => {
    const e = record(10, -0.001);
    expect(fullRecordWithoutEdge(e, T)).toBe(false);
    expect(fullRecordWithoutEdge(e, { minEvidenceSessions: 10 })).toBe(true);
    expect(names(classify(e, { ...T, minEvidenceSessions: 10 }).against)).toEqual(
      expect.arrayContaining(['psr', 'dsr']),
    );
    expect(fullRecordWithoutEdge(null, T)).toBe(false);
    expect(fullRecordWithoutEdge({ n: 30 }, T)).toBe(false);
    expect(fullRecordWithoutEdge(e, { minEvidenceSessions: Number.NaN })).toBe(false);
  });
});
