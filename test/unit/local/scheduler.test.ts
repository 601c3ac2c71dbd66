import { describe, expect, it } from 'vitest';
import { firingsBetween, ScheduleExpressionError, timeline } from '../../../local/scheduler.js';

const iso = (ms: number) => new Date(ms).toISOString();
const NY = 'America/New_York';

describe('firingsBetween (EventBridge Scheduler expressions)', () => {
  it('fires a weekday cron at New York wall time across the DST switch', () => {
    // Prepare: Fri 2013-11-01 (EDT, UTC-4) .. Tue 2013-11-05 (EST, UTC-5)
    const spec = { name: 'cohort-start', expression: 'cron(35 9 ? * MON-FRI *)', timezone: NY };
    // Act
    const out = firingsBetween(
      spec,
      Date.parse('2013-11-01T00:00:00Z'),
      Date.parse('2013-11-06T00:00:00Z'),
    );
    // Assess: no weekend firing; 09:35 is 13:35Z before the switch and 14:35Z after it
    expect(out.map((f) => iso(f.atMs))).toEqual([
      '2013-11-01T13:35:00.000Z',
      '2013-11-04T14:35:00.000Z',
      '2013-11-05T14:35:00.000Z',
    ]);
  });

  it('reads EventBridge day-of-week numbers (1 = Sunday) and the year field', () => {
    const spec = { name: 'x', expression: 'cron(0 12 ? * 2 2013)', timezone: 'UTC' };
    const out = firingsBetween(
      spec,
      Date.parse('2013-12-20T00:00:00Z'),
      Date.parse('2014-01-15T00:00:00Z'),
    );
    // Mondays only, and none in 2014
    expect(out.map((f) => iso(f.atMs))).toEqual([
      '2013-12-23T12:00:00.000Z',
      '2013-12-30T12:00:00.000Z',
    ]);
  });

  it('fires rate expressions every period after the start', () => {
    const out = firingsBetween(
      { name: 'r', expression: 'rate(3 hours)', timezone: 'UTC' },
      Date.parse('2013-10-07T00:00:00Z'),
      Date.parse('2013-10-07T10:00:00Z'),
    );
    expect(out.map((f) => iso(f.atMs))).toEqual([
      '2013-10-07T03:00:00.000Z',
      '2013-10-07T06:00:00.000Z',
      '2013-10-07T09:00:00.000Z',
    ]);
  });

  it('names the schedule of an expression it cannot read', () => {
    expect(() =>
      firingsBetween({ name: 'bad', expression: 'every day', timezone: 'UTC' }, 0, 1),
    ).toThrow(ScheduleExpressionError);
    expect(() =>
      firingsBetween({ name: 'bad', expression: 'every day', timezone: 'UTC' }, 0, 1),
    ).toThrow(/bad/);
  });
});

describe('timeline', () => {
  it('merges schedules in time order, ties in declaration order', () => {
    const out = timeline(
      [
        { name: 'cohort-start', expression: 'cron(35 9 ? * MON-FRI *)', timezone: NY },
        { name: 'promotion', expression: 'cron(0 10 ? * MON-FRI *)', timezone: NY },
        { name: 'learning-cycle', expression: 'cron(0 12,16 ? * MON-FRI *)', timezone: NY },
      ],
      Date.parse('2013-10-07T04:00:00Z'),
      Date.parse('2013-10-08T04:00:00Z'),
    );
    expect(out.map((f) => f.name)).toEqual([
      'cohort-start',
      'promotion',
      'learning-cycle',
      'learning-cycle',
    ]);
  });
});
