/**
 * The CLI's exit code of `run` (README, "Exit codes"): a failed execution fails the run; a
 * Day-3 decision, rejection included, does not.
 */
import { describe, expect, it } from 'vitest';
import type { Day3RunOutcome } from '../../../local/day3.js';
import { type CohortOutcome, replayFailure } from '../../../local/replay.js';

const cohort = (status: CohortOutcome['status']): CohortOutcome => ({
  sessionDate: '2013-10-07',
  status,
  ...(status === 'FAILED' ? { error: 'TransientError', cause: 'store down' } : {}),
});

const day3 = (
  status: Day3RunOutcome['status'],
  decision: Day3RunOutcome['decision'],
): Day3RunOutcome =>
  ({
    status,
    decision,
    ...(status === 'FAILED' ? { error: 'States.TaskFailed', cause: 'boom' } : {}),
  }) as Day3RunOutcome;

describe('replayFailure', () => {
  it('is null when every execution ended, whatever the Day-3 decision', () => {
    // Prepare
    const decisions = [
      'approved',
      'rejected',
      'timed_out',
      'gates_failed',
      'insufficient_evidence',
    ] as const;

    // Act
    const failures = decisions.map((d) =>
      replayFailure({ cohorts: [cohort('SUCCEEDED')], goNoGo: [day3('SUCCEEDED', d)] }),
    );

    // Assess
    expect(failures).toEqual([null, null, null, null, null]);
  });

  it('names a Day-3 go/no-go execution that FAILED', () => {
    // Act
    const failure = replayFailure({
      cohorts: [cohort('SUCCEEDED'), cohort('SKIPPED')],
      goNoGo: [day3('FAILED', 'failed')],
    });

    // Assess
    expect(failure).toEqual({
      kind: 'day3',
      message: 'Day-3 go/no-go failed: States.TaskFailed: boom',
    });
  });

  it('puts a failed cohort first', () => {
    // Act
    const failure = replayFailure({
      cohorts: [cohort('FAILED')],
      goNoGo: [day3('FAILED', 'failed')],
    });

    // Assess
    expect(failure?.kind).toBe('cohort');
    expect(failure?.message).toBe('run failed on 2013-10-07: TransientError: store down');
  });
});
