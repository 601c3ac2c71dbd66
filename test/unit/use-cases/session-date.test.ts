import { describe, expect, it } from 'vitest';
import {
  cohortIdFor,
  resolveSessionDate,
} from '../../../functions/core/use-cases/intraday-cohort.js';

describe('resolveSessionDate', () => {
  it.each([
    // 09:35 EDT on 2013-10-07 is 13:35Z
    ['2013-10-07T13:35:00Z', '2013-10-07'],
    // 23:00 EDT on 2013-10-07 is already 03:00Z on the 8th: still the 7th in New York
    ['2013-10-08T03:00:00Z', '2013-10-07'],
    // after the DST switch (2013-11-03) New York is UTC-5: 09:35 EST = 14:35Z
    ['2013-11-04T14:35:00Z', '2013-11-04'],
    ['2013-11-05T04:59:00Z', '2013-11-04'],
  ])('scheduled at %s is the %s session', (scheduledTime, expected) => {
    expect(resolveSessionDate({ scheduledTime })).toBe(expected);
  });

  it('prefers an explicit sessionDate', () => {
    expect(
      resolveSessionDate({ sessionDate: '2013-10-09', scheduledTime: '2013-10-07T13:35:00Z' }),
    ).toBe('2013-10-09');
  });
});

describe('cohortIdFor', () => {
  it('is readable, per execution and free of unsafe characters', () => {
    expect(cohortIdFor('2013-10-07', 'cli-20131007-abc')).toBe('coh-20131007-cli-20131007-abc');
    expect(cohortIdFor('2013-10-07', 'a/b c')).toBe('coh-20131007-abc');
  });
});

describe('resolveSessionDate (crypto: 24 h UTC sessions)', () => {
  it('targets the UTC day that closed before the firing, whatever the New York date', () => {
    // 00:05 UTC on 2017-09-04 is still 2017-09-03 in New York; both give 2017-09-03 here
    expect(resolveSessionDate({ scheduledTime: '2017-09-04T00:05:00Z', market: 'crypto' })).toBe(
      '2017-09-03',
    );
    expect(resolveSessionDate({ scheduledTime: '2017-09-04T23:59:00Z', market: 'crypto' })).toBe(
      '2017-09-03',
    );
    expect(resolveSessionDate({ sessionDate: '2018-04-05', market: 'crypto' })).toBe('2018-04-05');
  });
});
