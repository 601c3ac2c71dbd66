/**
 * The rollback monitor's schedule definitions: what the CDK app deploys
 * (`lib/constructs/day3-go-no-go.ts`) and what the local mode replays (`local/day3.ts`), so
 * both run the monitor at the same cadence, the stage's `schedules.rollbackMonitor.everyMinutes`.
 * No CDK import: the local runtime reads this.
 */
import {
  type Market,
  marketTimeZone,
  NYSE_TIME_ZONE,
} from '../../functions/core/calendar/market-calendar.js';

/** The zone of the equity rollback monitor's ticks (the regular session's hours). */
export const ROLLBACK_MONITOR_TIME_ZONE = NYSE_TIME_ZONE;

/**
 * The zone a market's rollback-monitor ticks are evaluated in: America/New_York for
 * `equity-usa`, UTC for `crypto` (24 h UTC days, `marketTimeZone`).
 */
export function rollbackMonitorTimeZone(market: Market): string {
  return marketTimeZone(market);
}

/**
 * Cadences the monitor accepts, minutes: the divisors of 30, so the ticks keep one grid from
 * the 09:30 open across every hour.
 */
export const ROLLBACK_MONITOR_CADENCES = [1, 2, 3, 5, 6, 10, 15, 30] as const;

/**
 * The closing tick's minute: 15:55 New York for equities (five minutes before the regular
 * close), 23:55 UTC for crypto (five minutes before the UTC day ends).
 */
const CLOSING_MINUTE = 55;

/** One tick definition of the rollback monitor. */
export interface RollbackMonitorSchedule {
  readonly name: string;
  /** EventBridge Scheduler cron expression, in {@link rollbackMonitorTimeZone}(`market`). */
  readonly expression: string;
  /** The closing tick (it also checks for a breach and ends the day). */
  readonly closeOfDay: boolean;
  /** The market whose slices this tick watches (the handler's event `market`). */
  readonly market: Market;
}

function checkCadence(everyMinutes: number): void {
  if (!(ROLLBACK_MONITOR_CADENCES as readonly number[]).includes(everyMinutes)) {
    throw new RangeError(
      `schedules.rollbackMonitor.everyMinutes must be one of ${ROLLBACK_MONITOR_CADENCES.join(', ')}, got ${everyMinutes}`,
    );
  }
}

/** The minutes of the closing hour before the closing tick, one every `n`. */
function lastHourMinutes(n: number): string {
  const minutes: number[] = [];
  for (let m = 0; m < CLOSING_MINUTE; m += n) minutes.push(m);
  return minutes.join(',');
}

/**
 * The crypto rollback monitor (24 h UTC days, every day of the week): one tick every
 * `everyMinutes` from 00:00 to the last slot before 23:55 UTC, and the closing tick at 23:55
 * UTC. Names prefixed `crypto-`; evaluated in UTC.
 */
function cryptoRollbackMonitorSchedules(n: number): readonly RollbackMonitorSchedule[] {
  const market: Market = 'crypto';
  return [
    {
      name: 'crypto-rollback-monitor-day',
      expression: `cron(0/${n} 0-22 * * ? *)`,
      closeOfDay: false,
      market,
    },
    {
      name: 'crypto-rollback-monitor-last-hour',
      expression: `cron(${lastHourMinutes(n)} 23 * * ? *)`,
      closeOfDay: false,
      market,
    },
    {
      name: 'crypto-rollback-monitor-close',
      expression: `cron(${CLOSING_MINUTE} 23 * * ? *)`,
      closeOfDay: true,
      market,
    },
  ];
}

/**
 * The rollback monitor's schedules of `market` at one tick every `everyMinutes` (one of
 * {@link ROLLBACK_MONITOR_CADENCES}).
 * - `equity-usa` (default): from 09:30 + `everyMinutes` to the last slot before 15:55 (three
 *   cron expressions, EventBridge cron has no minute ranges across hours), and the closing
 *   tick at 15:55 with `closeOfDay: true`, weekdays, America/New_York. So every slot of the
 *   session runs exactly once. At 5 minutes: 09:35-15:50 and 15:55.
 * - `crypto`: every day of the week in UTC, from 00:00 to the last slot before 23:55, and the
 *   closing tick at 23:55 UTC (a crypto session is the 24 h UTC day). At 5 minutes:
 *   00:00-23:50 and 23:55.
 *
 * @throws RangeError when `everyMinutes` is not one of {@link ROLLBACK_MONITOR_CADENCES}
 *   (never for a config `parseEnvironmentConfig` accepted).
 */
export function rollbackMonitorSchedules(
  everyMinutes: number,
  market: Market = 'equity-usa',
): readonly RollbackMonitorSchedule[] {
  checkCadence(everyMinutes);
  const n = everyMinutes;
  if (market === 'crypto') return cryptoRollbackMonitorSchedules(n);
  const equity: Market = 'equity-usa';
  return [
    ...(30 + n < 60
      ? [
          {
            name: 'rollback-monitor-open',
            expression: `cron(${30 + n}/${n} 9 ? * MON-FRI *)`,
            closeOfDay: false,
            market: equity,
          },
        ]
      : []),
    {
      name: 'rollback-monitor-session',
      expression: `cron(0/${n} 10-14 ? * MON-FRI *)`,
      closeOfDay: false,
      market: equity,
    },
    {
      name: 'rollback-monitor-last-hour',
      expression: `cron(${lastHourMinutes(n)} 15 ? * MON-FRI *)`,
      closeOfDay: false,
      market: equity,
    },
    {
      name: 'rollback-monitor-close',
      expression: `cron(${CLOSING_MINUTE} 15 ? * MON-FRI *)`,
      closeOfDay: true,
      market: equity,
    },
  ];
}
