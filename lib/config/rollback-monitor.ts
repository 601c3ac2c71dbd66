/**
 * The rollback monitor's schedule definitions: what the CDK app deploys
 * (`lib/constructs/day3-go-no-go.ts`) and what the local mode replays (`local/day3.ts`), so
 * both run the monitor at the same cadence. No CDK import: the local runtime reads this.
 */
import { NYSE_TIME_ZONE } from '../../functions/core/calendar/market-calendar.js';

/** The zone of the rollback monitor's ticks (the regular session's hours). */
export const ROLLBACK_MONITOR_TIME_ZONE = NYSE_TIME_ZONE;

/**
 * The rollback monitor's schedules: every 5 minutes from 09:35 to 15:50 (three cron
 * expressions, EventBridge cron has no minute ranges across hours), and the closing tick at
 * 15:55 with `closeOfDay: true` (it also checks for a breach), weekdays, America/New_York. So
 * every 5-minute slot of 09:35-15:55 runs exactly once.
 */
export const ROLLBACK_MONITOR_SCHEDULES = [
  { name: 'rollback-monitor-open', expression: 'cron(35/5 9 ? * MON-FRI *)', closeOfDay: false },
  {
    name: 'rollback-monitor-session',
    expression: 'cron(0/5 10-14 ? * MON-FRI *)',
    closeOfDay: false,
  },
  {
    name: 'rollback-monitor-last-hour',
    expression: 'cron(0,5,10,15,20,25,30,35,40,45,50 15 ? * MON-FRI *)',
    closeOfDay: false,
  },
  { name: 'rollback-monitor-close', expression: 'cron(55 15 ? * MON-FRI *)', closeOfDay: true },
] as const;
