/**
 * THE schedules of one stage, as EventBridge Scheduler fires them: read from the stage's
 * validated config (`schedules.*`, the promotion window, the rollback monitor's ticks) by the
 * CDK constructs that deploy them AND by the local replay that walks their firings, so the
 * two cannot drift. No CDK import: the local runtime reads this.
 */

import type { Market } from '../../functions/core/calendar/market-calendar.js';
import { PROMOTION_WINDOW_TIME_ZONE } from '../../functions/core/gates/gates.js';
import type { EnvironmentConfig } from './environment-config.js';
import { rollbackMonitorSchedules, rollbackMonitorTimeZone } from './rollback-monitor.js';
import { weekdayCronAt } from './schedule-expression.js';

/** One deployed schedule. */
export interface StageSchedule {
  /** The Scheduler schedule's name (also the local replay's firing name). */
  readonly name: string;
  /** EventBridge Scheduler expression, e.g. `cron(0 10 ? * MON-FRI *)`. */
  readonly expression: string;
  /** IANA zone the expression is evaluated in. */
  readonly timezone: string;
  /** ENABLED or DISABLED at deploy time. */
  readonly enabled: boolean;
}

/** One tick of the rollback monitor: a schedule whose closing tick also checks for a breach. */
export interface RollbackMonitorTick extends StageSchedule {
  readonly closeOfDay: boolean;
  /** The market whose micro-live slices this tick watches (the handler's event `market`). */
  readonly market: Market;
}

/** The rollback monitor's ticks of `market` at the stage's cadence (`schedules.rollbackMonitor`). */
function monitorTicks(config: EnvironmentConfig, market: Market): RollbackMonitorTick[] {
  const { rollbackMonitor } = config.schedules;
  return rollbackMonitorSchedules(rollbackMonitor.everyMinutes, market).map((tick) => ({
    name: tick.name,
    expression: tick.expression,
    timezone: rollbackMonitorTimeZone(market),
    enabled: rollbackMonitor.enabled,
    closeOfDay: tick.closeOfDay,
    market,
  }));
}

/** Every schedule of one stage. */
export interface StageSchedules {
  /** Starts the intraday cohort on its own (`schedules.cohortStart`). */
  readonly cohortStart: StageSchedule;
  /** Starts the session ingestion and its chain (`schedules.sessionIngestion`). */
  readonly sessionIngestion: StageSchedule;
  /**
   * Starts the promotion pipeline when the promotion window opens: weekdays at
   * `promotion.windows[0].opensAt`, America/New_York (the window's zone).
   */
  readonly promotionStart: StageSchedule;
  /** Starts the learning cycle (`schedules.learningCycle`). */
  readonly learningCycle: StageSchedule;
  /** Starts the Day-3 go/no-go (`schedules.day3GoNoGo`). */
  readonly day3GoNoGo: StageSchedule;
  /** Posts the daily report after the close (`schedules.dailyReport`). */
  readonly dailyReport: StageSchedule;
  /**
   * The rollback monitor's ticks of equity slices: every `schedules.rollbackMonitor.everyMinutes`
   * from 09:30 plus that cadence, and the closing tick 15:55, weekdays, America/New_York
   * (`rollbackMonitorSchedules`). Crypto slices have their own ticks under `crypto`.
   */
  readonly rollbackMonitor: readonly RollbackMonitorTick[];
  /** The crypto schedules (`schedules.crypto`), every one in {@link CRYPTO_SCHEDULE_TIME_ZONE}. */
  readonly crypto: CryptoStageSchedules;
}

/** Crypto sessions are 24 h UTC days: their schedules are evaluated in UTC. */
export const CRYPTO_SCHEDULE_TIME_ZONE = 'UTC';

/** The crypto schedules of one stage (`schedules.crypto`), names prefixed `crypto-`. */
export interface CryptoStageSchedules {
  readonly cohortStart: StageSchedule;
  readonly sessionIngestion: StageSchedule;
  readonly promotionStart: StageSchedule;
  readonly learningCycle: StageSchedule;
  readonly day3GoNoGo: StageSchedule;
  readonly dailyReport: StageSchedule;
  /**
   * The rollback monitor of crypto slices: every `schedules.rollbackMonitor.everyMinutes`
   * from 00:00 UTC, every day, and the closing tick 23:55 UTC (`rollbackMonitorSchedules`).
   */
  readonly rollbackMonitor: readonly RollbackMonitorTick[];
}

function cryptoSchedules(config: EnvironmentConfig): CryptoStageSchedules {
  const { crypto } = config.schedules;
  const tz = CRYPTO_SCHEDULE_TIME_ZONE;
  return {
    rollbackMonitor: monitorTicks(config, 'crypto'),
    cohortStart: { name: 'crypto-cohort-start', ...crypto.cohortStart, timezone: tz },
    sessionIngestion: {
      name: 'crypto-session-ingestion',
      ...crypto.sessionIngestion,
      timezone: tz,
    },
    promotionStart: { name: 'crypto-promotion-start', ...crypto.promotionStart, timezone: tz },
    learningCycle: { name: 'crypto-learning-cycle', ...crypto.learningCycle, timezone: tz },
    day3GoNoGo: { name: 'crypto-day3-go-no-go', ...crypto.day3GoNoGo, timezone: tz },
    dailyReport: { name: 'crypto-daily-report', ...crypto.dailyReport, timezone: tz },
  };
}

/**
 * The schedules `config` deploys (names as the CDK app gives them).
 * @throws ValidationError (field `hhmm`) when the promotion window's `opensAt` is not `HH:mm`
 *   (never for a config `parseEnvironmentConfig` accepted).
 */
export function stageSchedules(config: EnvironmentConfig): StageSchedules {
  const { schedules } = config;
  const tz = schedules.timezone;
  const window = config.promotion.windows[0];
  return {
    cohortStart: { name: 'cohort-start', ...schedules.cohortStart, timezone: tz },
    sessionIngestion: { name: 'session-ingestion', ...schedules.sessionIngestion, timezone: tz },
    promotionStart: {
      name: 'promotion-start',
      // The schema holds exactly one window; '' makes weekdayCronAt name the field otherwise.
      expression: weekdayCronAt(window?.opensAt ?? ''),
      timezone: PROMOTION_WINDOW_TIME_ZONE,
      enabled: schedules.promotionStart.enabled,
    },
    learningCycle: { name: 'learning-cycle', ...schedules.learningCycle, timezone: tz },
    day3GoNoGo: { name: 'day3-go-no-go', ...schedules.day3GoNoGo, timezone: tz },
    dailyReport: { name: 'daily-report', ...schedules.dailyReport, timezone: tz },
    rollbackMonitor: monitorTicks(config, 'equity-usa'),
    crypto: cryptoSchedules(config),
  };
}
