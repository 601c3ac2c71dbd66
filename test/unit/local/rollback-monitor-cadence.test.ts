/**
 * The rollback monitor's cadence is per-stage config (`schedules.rollbackMonitor.everyMinutes`):
 * the schedules deployed and replayed at every accepted cadence fire each slot of the session
 * exactly once, from 09:30 plus the cadence, and close the day at 15:55 New York; a crypto
 * slice's ticks run every UTC day (weekends included) and close the day at 23:55 UTC.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import { parseEnvironmentConfig } from '../../../lib/config/environment-config.js';
import { environments } from '../../../lib/config/environments.js';
import {
  ROLLBACK_MONITOR_CADENCES,
  rollbackMonitorSchedules,
} from '../../../lib/config/rollback-monitor.js';
import { stageSchedules } from '../../../lib/config/schedules.js';
import { timeline } from '../../../local/scheduler.js';

/** Wed 2013-10-09, New York (EDT, UTC-4). */
const DAY_START = Date.parse('2013-10-09T04:00:00Z');
const nyMinute = (ms: number) => {
  const t = new Date(ms - 4 * 3_600_000);
  return t.getUTCHours() * 60 + t.getUTCMinutes();
};

describe('rollback monitor cadence from the stage config', () => {
  it.each(ROLLBACK_MONITOR_CADENCES)(
    'every %i minutes: each slot from 09:30 + the cadence to 15:55 fires once, the last one closes the day',
    (every) => {
      // Prepare
      const specs = rollbackMonitorSchedules(every).map((s) => ({
        name: s.name,
        expression: s.expression,
        timezone: 'America/New_York',
      }));
      const closing = rollbackMonitorSchedules(every).filter((s) => s.closeOfDay);

      // Act
      const firings = timeline(specs, DAY_START, DAY_START + 86_400_000);

      // Assess
      const expected: number[] = [];
      for (let m = 9 * 60 + 30 + every; m < 15 * 60 + 55; m += every) expected.push(m);
      expected.push(15 * 60 + 55);
      expect(firings.map((f) => nyMinute(f.atMs))).toEqual(expected);
      expect(closing.map((s) => s.name)).toEqual([firings.at(-1)?.name]);
    },
  );

  it('the stage config sets the cadence the schedules use, and refuses one that is not a divisor of 30', () => {
    // Prepare
    const dev = environments.dev;
    const at = (everyMinutes: number) =>
      parseEnvironmentConfig({
        ...dev,
        schedules: { ...dev.schedules, rollbackMonitor: { enabled: true, everyMinutes } },
      });

    // Act
    const ten = stageSchedules(at(10)).rollbackMonitor;

    // Assess
    expect(ten.map((t) => t.expression)).toEqual([
      'cron(40/10 9 ? * MON-FRI *)',
      'cron(0/10 10-14 ? * MON-FRI *)',
      'cron(0,10,20,30,40,50 15 ? * MON-FRI *)',
      'cron(55 15 ? * MON-FRI *)',
    ]);
    expect(stageSchedules(dev).rollbackMonitor.map((t) => t.expression)).toEqual(
      rollbackMonitorSchedules(5).map((t) => t.expression),
    );
    for (const bad of [4, 7, 12, 20, 60, 0, 2.5]) {
      expect(() => at(bad)).toThrow(ValidationError);
      expect(() => at(bad)).toThrow(/schedules\.rollbackMonitor\.everyMinutes/);
    }
  });
});

/** Sat 2017-09-02 and Sun 2017-09-03, UTC: no NYSE session, both crypto sessions. */
const WEEKEND_UTC = Date.parse('2017-09-02T00:00:00Z');
const utcMinute = (ms: number) => new Date(ms).getUTCHours() * 60 + new Date(ms).getUTCMinutes();

describe('crypto rollback monitor: UTC, every day', () => {
  it.each(ROLLBACK_MONITOR_CADENCES)(
    'every %i minutes: each slot of the UTC day from 00:00 to 23:55 fires once on Saturday and Sunday, the last one closes the day',
    (every) => {
      // Prepare
      const schedules = rollbackMonitorSchedules(every, 'crypto');
      const specs = schedules.map((s) => ({
        name: s.name,
        expression: s.expression,
        timezone: 'UTC',
      }));
      const closing = schedules.filter((s) => s.closeOfDay).map((s) => s.name);

      // Act
      const firings = timeline(specs, WEEKEND_UTC, WEEKEND_UTC + 2 * 86_400_000);

      // Assess
      const day: number[] = [];
      for (let m = 0; m < 23 * 60 + 55; m += every) day.push(m);
      day.push(23 * 60 + 55);
      expect(firings.map((f) => utcMinute(f.atMs))).toEqual([...day, ...day]);
      const closes = firings.filter((f) => closing.includes(f.name));
      expect(closes.map((f) => new Date(f.atMs).toISOString())).toEqual([
        '2017-09-02T23:55:00.000Z',
        '2017-09-03T23:55:00.000Z',
      ]);
      expect(schedules.every((s) => s.market === 'crypto' && s.name.startsWith('crypto-'))).toBe(
        true,
      );
    },
  );

  it("the stage config's crypto block carries the crypto ticks in UTC at the stage's cadence", () => {
    // Act
    const { crypto, rollbackMonitor } = stageSchedules(environments.dev);

    // Assess
    expect(
      crypto.rollbackMonitor.map((t) => [t.expression, t.timezone, t.closeOfDay, t.market]),
    ).toEqual([
      ['cron(0/5 0-22 * * ? *)', 'UTC', false, 'crypto'],
      ['cron(0,5,10,15,20,25,30,35,40,45,50 23 * * ? *)', 'UTC', false, 'crypto'],
      ['cron(55 23 * * ? *)', 'UTC', true, 'crypto'],
    ]);
    expect(rollbackMonitor.every((t) => t.market === 'equity-usa')).toBe(true);
    expect(rollbackMonitor.every((t) => t.timezone === 'America/New_York')).toBe(true);
  });
});
