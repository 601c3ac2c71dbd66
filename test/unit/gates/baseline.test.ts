import { describe, expect, it } from 'vitest';
import {
  type BaselineSession,
  baselineGate,
  baselineSummary,
  compareWithBaselines,
  describeBaselineSummary,
} from '../../../functions/core/gates/baseline.js';

/** The baselines of one session: flat (0) and buy-and-hold of SPY and IBM. */
function day(spy: number, ibm = -0.01): BaselineSession[] {
  return [
    { baseline: 'flat', symbol: null, sessionReturn: 0 },
    { baseline: 'buy_and_hold', symbol: 'SPY', sessionReturn: spy },
    { baseline: 'buy_and_hold', symbol: 'IBM', sessionReturn: ibm },
  ];
}

describe('baseline gate (candidate vs flat and buy-and-hold of its symbol, out of sample)', () => {
  it('passes when the candidate beats the best baseline; records both figures', () => {
    // Prepare: candidate 0.3 % and 0.5 % (mean 0.4 %); SPY buy-and-hold 0.2 % and 0.4 %
    // (mean 0.3 %); flat 0: the best baseline is buy-and-hold SPY at 0.003 per session.
    const c = compareWithBaselines('SPY', [
      { sessionDate: '2013-10-10', sessionReturn: 0.003, baselines: day(0.002) },
      { sessionDate: '2013-10-11', sessionReturn: 0.005, baselines: day(0.004) },
    ]);

    // Act
    const g = baselineGate(c);

    // Assess
    expect(c.baselines).toEqual([
      { baseline: 'flat', symbol: null, n: 2, meanReturn: 0 },
      { baseline: 'buy_and_hold', symbol: 'SPY', n: 2, meanReturn: expect.closeTo(0.003, 15) },
    ]);
    expect(g).toMatchObject({ gate: 'baseline', verdict: 'pass', breakerAction: 'none' });
    expect(g.observed).toBeCloseTo(0.004, 15);
    expect(g.threshold).toBeCloseTo(0.003, 15);
    expect(g.reason).toContain('candidate SPY mean 0.4% per session');
    expect(g.reason).toContain('buy_and_hold SPY mean 0.3% (n=2)');
    expect(g.reason).toMatch(/beats the best baseline \(0\.3%\)$/);
  });

  it('fails when a positive candidate does not beat buy-and-hold of its own symbol', () => {
    // Candidate +0.1 %, SPY rose 0.5 %: positive (the oos gate would pass), still a failure.
    const g = baselineGate(
      compareWithBaselines('SPY', [
        { sessionDate: '2013-10-10', sessionReturn: 0.001, baselines: day(0.005, 0.02) },
      ]),
    );
    expect(g).toMatchObject({ verdict: 'fail', observed: 0.001, threshold: 0.005 });
    expect(g.reason).toMatch(/does not beat the best baseline \(0\.5%\)$/);
  });

  it('fails when the candidate loses to flat on a falling day', () => {
    const g = baselineGate(
      compareWithBaselines('SPY', [
        { sessionDate: '2013-10-10', sessionReturn: -0.002, baselines: day(-0.01) },
      ]),
    );
    expect(g).toMatchObject({ verdict: 'fail', observed: -0.002, threshold: 0 });
  });

  it('an equal figure does not beat the baseline', () => {
    const g = baselineGate(
      compareWithBaselines('SPY', [
        { sessionDate: '2013-10-10', sessionReturn: 0, baselines: day(-0.01) },
      ]),
    );
    expect(g).toMatchObject({ verdict: 'fail', observed: 0, threshold: 0 });
  });

  it('fails closed: no out-of-sample session, a session without baselines, no comparison', () => {
    const none = baselineGate(compareWithBaselines('SPY', []));
    expect(none).toMatchObject({ verdict: 'fail', observed: null });
    expect(none.reason).toMatch(/^insufficient evidence: no out-of-sample session/);

    const missing = baselineGate(
      compareWithBaselines('SPY', [
        { sessionDate: '2013-10-10', sessionReturn: 0.05, baselines: day(0.001) },
        { sessionDate: '2013-10-11', sessionReturn: 0.05, baselines: null },
      ]),
    );
    expect(missing.verdict).toBe('fail');
    expect(missing.reason).toMatch(/^no baseline recorded for 2013-10-11: failing closed/);

    // A cohort with baselines of other symbols only: no buy-and-hold of the candidate's.
    const otherSymbol = baselineGate(
      compareWithBaselines('BAC', [
        { sessionDate: '2013-10-10', sessionReturn: 0.05, baselines: day(0.001) },
      ]),
    );
    expect(otherSymbol.reason).toMatch(/^no baseline recorded for 2013-10-10/);

    expect(baselineGate(null)).toMatchObject({ verdict: 'fail', observed: null });
    const nan = baselineGate(
      compareWithBaselines('SPY', [
        { sessionDate: '2013-10-10', sessionReturn: Number.NaN, baselines: day(0.001) },
      ]),
    );
    expect(nan.verdict).toBe('fail');
  });
});

describe('baselineSummary (what the approval page, Slack and the Day-3 report show)', () => {
  it("names the best baseline beside the candidate's mean, both sample sizes, and the dates without a figure", () => {
    // Prepare: SPY buy-and-hold 0.2 % and 0.4 % beats flat; 2013-10-14 has no baseline
    const c = compareWithBaselines('SPY', [
      { sessionDate: '2013-10-10', sessionReturn: 0.001, baselines: day(0.002) },
      { sessionDate: '2013-10-11', sessionReturn: 0.003, baselines: day(0.004) },
      { sessionDate: '2013-10-14', sessionReturn: 0.002, baselines: null },
    ]);

    // Act
    const s = baselineSummary(c);

    // Assess: the same best baseline the gate's threshold is
    expect(s).toMatchObject({
      candidateSessions: 3,
      bestBaseline: 'buy_and_hold SPY',
      bestSessions: 2,
      missingDates: ['2013-10-14'],
    });
    expect(s.candidateMeanReturn).toBeCloseTo(0.002, 15);
    expect(s.bestMeanReturn).toBeCloseTo(baselineGate(c).threshold as number, 15);
    expect(describeBaselineSummary(s)).toBe(
      'candidate 0.2% per session (n=3) vs best baseline buy_and_hold SPY 0.3% per session (n=2), out of sample on the same sessions, bars and costs; no baseline recorded for 2013-10-14',
    );
  });

  it('flat is the best baseline when buy-and-hold lost; no session gives no figure', () => {
    // Act
    const lost = baselineSummary(
      compareWithBaselines('IBM', [
        { sessionDate: '2013-10-10', sessionReturn: -0.001, baselines: day(0.01, -0.004) },
      ]),
    );
    const none = baselineSummary(compareWithBaselines('IBM', []));

    // Assess
    expect(lost).toMatchObject({ bestBaseline: 'flat', bestMeanReturn: 0, bestSessions: 1 });
    expect(none).toMatchObject({ candidateSessions: 0, bestBaseline: null, bestSessions: 0 });
    expect(describeBaselineSummary(none)).toBe(
      'candidate n/a per session (n=0) vs no baseline figure, out of sample on the same sessions, bars and costs',
    );
  });
});
