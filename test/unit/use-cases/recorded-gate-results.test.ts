/**
 * recordedGateResults / recordedEvaluation (functions/core/use-cases/promotion-gates.ts): a
 * step that gets its first attempt's `gate_evaluated` records back (a step-scoped sink under a
 * retry) decides on the recorded verdicts, not on its own second evaluation, and fails closed
 * when those records judged another cohort or agent than the retry's candidate.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../functions/core/audit/record.js';
import { RecordedDecisionMismatchError } from '../../../functions/core/errors.js';
import { type GateResult, gateVerdictFields } from '../../../functions/core/gates/types.js';
import {
  recordedEvaluation,
  recordedGateResults,
} from '../../../functions/core/use-cases/promotion-gates.js';

const result = (gate: string, verdict: 'pass' | 'fail'): GateResult => ({
  gate: gate as GateResult['gate'],
  verdict,
  observed: verdict === 'pass' ? 0.5 : 3,
  threshold: 1,
  unit: 'fraction',
  reason: `${gate} ${verdict}`,
  breakerAction: verdict === 'pass' ? 'none' : 'pause_entries',
});
/** The stored records of `results` evaluated at `at` on `subject` (payload, stream, subject). */
const recordsOf = (
  results: readonly GateResult[],
  at: string,
  subject = { cohort_id: 'c-1', agent_id: 'a-1' },
): AuditRecord[] =>
  results.map(
    (r) =>
      ({
        stream: 'promotion:p-1',
        subject,
        payload: JSON.stringify({ ...gateVerdictFields(r), evaluated_at: at }),
      }) as unknown as AuditRecord,
  );

describe('the decision follows the record', () => {
  it('a replayed gate table gives its recorded verdicts and time', () => {
    // Prepare: the first attempt recorded a failure at 14:30; the retry now sees a pass
    const recorded = [result('psr', 'fail'), result('dsr', 'pass')];
    const now = [result('psr', 'pass'), result('dsr', 'pass')];
    const records = recordsOf(recorded, '2024-03-04T14:30:00.000Z');
    // Act
    const results = recordedGateResults(records, now);
    const evaluation = recordedEvaluation(
      records,
      { results: now, passed: true, strongestAction: 'none' },
      '2024-03-04T14:31:00.000Z',
    );
    // Assess
    expect(results).toEqual(recorded);
    expect(evaluation).toMatchObject({
      passed: false,
      strongestAction: 'pause_entries',
      nowIso: '2024-03-04T14:30:00.000Z',
    });
  });

  it('a replayed not_judged stays not judged and does not block; an unknown verdict fails closed', () => {
    // Prepare: the first attempt recorded the daily baseline gate as not judged
    const notJudged: GateResult = { ...result('baseline', 'pass'), verdict: 'not_judged' };
    const recorded = [result('psr', 'pass'), notJudged];
    const now = [result('psr', 'fail'), result('baseline', 'fail')];
    const records = recordsOf(recorded, '2024-03-04T14:30:00.000Z');
    // Act
    const evaluation = recordedEvaluation(
      records,
      { results: now, passed: false, strongestAction: 'pause_entries' },
      '2024-03-04T14:31:00.000Z',
    );
    // Assess
    expect(evaluation.results.map((r) => r.verdict)).toEqual(['pass', 'not_judged']);
    expect(evaluation).toMatchObject({ passed: true, strongestAction: 'none' });
    const odd = records.map((r, i) =>
      i === 1 ? { ...r, payload: r.payload.replace('not_judged', 'maybe') } : r,
    );
    expect(recordedGateResults(odd, now).map((r) => r.verdict)).toEqual(['pass', 'fail']);
  });

  it("this attempt's own records, or records of other gates, leave the evaluation as is", () => {
    // Prepare
    const now = [result('psr', 'pass'), result('dsr', 'pass')];
    const evaluation = { results: now, passed: true, strongestAction: 'none' as const };
    // Act / Assess
    expect(
      recordedGateResults(recordsOf([result('dsr', 'fail'), result('psr', 'fail')], 'x'), now),
    ).toBe(now);
    expect(recordedGateResults(recordsOf([result('psr', 'fail')], 'x'), now)).toBe(now);
    expect(recordedEvaluation(recordsOf(now, 'T'), evaluation, 'T')).toBe(evaluation);
  });

  it('records of another candidate (its subject changed between attempts) fail closed, never decide', () => {
    // Prepare: the first attempt judged agent a-1 and recorded a pass; the retry judges a-2
    const recorded = [result('psr', 'pass'), result('dsr', 'pass')];
    const now = [result('psr', 'fail'), result('dsr', 'fail')];
    const records = recordsOf(recorded, 'T', { cohort_id: 'c-1', agent_id: 'a-1' });
    // Act / Assess
    expect(() => recordedGateResults(records, now, { cohort_id: 'c-1', agent_id: 'a-2' })).toThrow(
      RecordedDecisionMismatchError,
    );
    expect(() =>
      recordedEvaluation(records, { results: now, passed: false, strongestAction: 'none' }, 'U', {
        cohort_id: 'c-2',
        agent_id: 'a-1',
      }),
    ).toThrow(/judged cohort c-1 agent a-1, not cohort c-2 agent a-1: failing closed/);
    // Same subject: the recorded verdicts decide
    expect(recordedGateResults(records, now, { cohort_id: 'c-1', agent_id: 'a-1' })).toEqual(
      recorded,
    );
  });
});
