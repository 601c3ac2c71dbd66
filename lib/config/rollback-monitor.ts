/**
 * The rollback monitor's schedule definitions: what the CDK app deploys
 * (`lib/constructs/day3-go-no-go.ts`) and what the local mode replays (`local/day3.ts`), so
 * both run the monitor at the same cadence, the stage's `schedules.rollbackMonitor.everyMinutes`.
 * No CDK import: the local runtime reads this.
 */
import { NYSE_TIME_ZONE } from '../../functions/core/calendar/market-calendar.js';

/** The zone of the rollback monitor's ticks (the regular session's hours). */
export const ROLLBACK_MONITOR_TIME_ZONE = NYSE_TIME_ZONE;

/**
 * Cadences the monitor accepts, minutes: the divisors of 30, so the ticks keep one grid from
 * the 09:30 open across every hour.
 */
export const ROLLBACK_MONITOR_CADENCES = [1, 2, 3, 5, 6, 10, 15, 30] as const;

/** The closing tick, minute of hour 15 New York (15:55: five minutes before the regular close). */
const CLOSING_MINUTE = 55;

/** One tick definition of the rollback monitor. */
export interface RollbackMonitorSchedule {
  readonly name: string;
  /** EventBridge Scheduler cron expression, America/New_York. */
  readonly expression: string;
  /** The closing tick (it also checks for a breach and ends the day). */
  readonly closeOfDay: boolean;
}

/**
 * The rollback monitor's schedules at one tick every `everyMinutes` (one of
 * {@link ROLLBACK_MONITOR_CADENCES}): from 09:30 + `everyMinutes` to the last slot before
 * 15:55 (three cron expressions, EventBridge cron has no minute ranges across hours), and the
 * closing tick at 15:55 with `closeOfDay: true`, weekdays, America/New_York. So every slot of
 * the session runs exactly once. At 5 minutes: 09:35-15:50 and 15:55.
 *
 * @throws RangeError when `everyMinutes` is not one of {@link ROLLBACK_MONITOR_CADENCES}
 *   (never for a config `parseEnvironmentConfig` accepted).
 */
export function rollbackMonitorSchedules(everyMinutes: number): readonly RollbackMonitorSchedule[] {
  if (!(ROLLBACK_MONITOR_CADENCES as readonly number[]).includes(everyMinutes)) {
    throw new RangeError(
      `schedules.rollbackMonitor.everyMinutes must be one of ${ROLLBACK_MONITOR_CADENCES.join(', ')}, got ${everyMinutes}`,
    );
  }
  const n = everyMinutes;
  const lastHour: number[] = [];
  for (let m = 0; m < CLOSING_MINUTE; m += n) lastHour.push(m);
  return [
    ...(30 + n < 60
      ? [
          {
            name: 'rollback-monitor-open',
            expression: `cron(${30 + n}/${n} 9 ? * MON-FRI *)`,
            closeOfDay: false,
          },
        ]
      : []),
    {
      name: 'rollback-monitor-session',
      expression: `cron(0/${n} 10-14 ? * MON-FRI *)`,
      closeOfDay: false,
    },
    {
      name: 'rollback-monitor-last-hour',
      expression: `cron(${lastHour.join(',')} 15 ? * MON-FRI *)`,
      closeOfDay: false,
    },
    {
      name: 'rollback-monitor-close',
      expression: `cron(${CLOSING_MINUTE} 15 ? * MON-FRI *)`,
      closeOfDay: true,
    },
  ];
}
