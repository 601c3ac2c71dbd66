/**
 * recordedGateResults / recordedEvaluation (functions/core/use-cases/promotion-gates.ts): a
 * step that gets its first attempt's `gate_evaluated` records back (a step-scoped sink under a
 * retry) decides on the recorded verdicts, not on its own second evaluation.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../functions/core/audit/record.js';
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
/** The stored records of `results` evaluated at `at` (only the payload is read). */
const recordsOf = (results: readonly GateResult[], at: string): AuditRecord[] =>
  results.map(
    (r) =>
      ({
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
});
