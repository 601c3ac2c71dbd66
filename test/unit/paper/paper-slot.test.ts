/**
 * Incumbent and challenger for one paper slot (`core/paper/paper-slot.ts`): the challenger
 * takes an empty slot, and replaces an incumbent only with enough evidence beating the
 * incumbent's paper record by the margin, net of the simulator's measured flattery.
 */
import { describe, expect, it } from 'vitest';
import { decidePaperSlot } from '../../../functions/core/paper/paper-slot.js';
import {
  type PaperSessionResult,
  paperTrackRecordOf,
} from '../../../functions/core/paper/track-record.js';

/** An incumbent with one paper session per (paper, cohort) PnL pair on $100 of capital. */
function incumbent(sessions: readonly [number, number][]) {
  const results = sessions.map(
    ([paper, cohort], i): PaperSessionResult => ({
      genomeId: 'g-inc',
      promotionId: `pr-${i}`,
      date: `2013-10-0${i + 1}`,
      symbol: 'SPY',
      family: 'momentum',
      broker: 'simulated:paper-1',
      capitalUsd: 100,
      paperPnlUsd: paper,
      referencePnlUsd: paper,
      parityDifferenceUsd: 0,
      parity: 'exact',
      dailyReturn: paper / 100,
      filledOrders: 2,
      roundTrips: 1,
      cohortPnlUsd: cohort,
      halt: null,
      reconciliationClean: true,
      recordedAtIso: '2013-10-08T20:05:00.000Z',
    }),
  );
  return paperTrackRecordOf('g-inc', results);
}

describe('decidePaperSlot', () => {
  it('an empty slot goes to the challenger', () => {
    // Act
    const d = decidePaperSlot({
      incumbent: null,
      challenger: { genomeId: 'g-ch', dailyReturns: [0.01] },
    });

    // Assess
    expect(d).toMatchObject({ decision: 'promote_challenger', incumbentMeanReturn: null });
  });

  it.each<[string, [number, number][], number[], 'keep_incumbent' | 'replace_incumbent', RegExp]>([
    [
      'a challenger far ahead replaces it',
      [
        [0.1, 0.1],
        [0, 0],
        [0.2, 0.2],
      ],
      [0.01, 0.012, 0.011],
      'replace_incumbent',
      /replaces g-inc/,
    ],
    [
      'within the margin: kept',
      [
        [0.1, 0.1],
        [0.1, 0.1],
        [0.1, 0.1],
      ],
      [0.0015, 0.0015, 0.0015],
      'keep_incumbent',
      /keeps the slot/,
    ],
    [
      'too little challenger evidence: kept',
      [
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      [0.05, 0.05],
      'keep_incumbent',
      /2 sessions of evidence < 3/,
    ],
    [
      'a young incumbent: kept',
      [[0, 0]],
      [0.05, 0.05, 0.05],
      'keep_incumbent',
      /has 1 paper session < 3/,
    ],
    // The incumbent's cohort figures exceeded its paper results by 1 %/day: the challenger's
    // 1.05 %/day of cohort evidence is worth 0.05 %/day on paper, under the 0.1 % margin.
    [
      'the simulator flattery is taken off the challenger',
      [
        [0, 1],
        [0, 1],
        [0, 1],
      ],
      [0.0105, 0.0105, 0.0105],
      'keep_incumbent',
      /flattery 1\.000%/,
    ],
  ])('%s', (_name, sessions, challengerReturns, expected, reason) => {
    // Act
    const d = decidePaperSlot({
      incumbent: incumbent(sessions),
      challenger: { genomeId: 'g-ch', dailyReturns: challengerReturns },
    });

    // Assess
    expect(d.decision).toBe(expected);
    expect(d.reason).toMatch(reason);
  });

  it('the incumbent is never its own challenger', () => {
    // Act
    const d = decidePaperSlot({
      incumbent: incumbent([
        [1, 1],
        [1, 1],
        [1, 1],
      ]),
      challenger: { genomeId: 'g-inc', dailyReturns: [1, 1, 1] },
    });

    // Assess
    expect(d.decision).toBe('keep_incumbent');
  });
});
