/**
 * One source of schedules: what the CDK app deploys (EventBridge Scheduler schedules in the
 * synthesized template) and what the local replay fires both come from the stage config
 * through `stageSchedules` (`lib/config/schedules.ts`), so changing the config moves both.
 */
import { describe, expect, it } from 'vitest';
import type { Stage } from '../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../lib/config/environments.js';
import { type StageSchedule, stageSchedules } from '../../lib/config/schedules.js';
import { replaySchedules } from '../../local/replay.js';
import { stageApproval } from '../support/stage-approval.js';
import { scheduleProps, synthStage } from './synth.js';

const APPROVERS = ['slack:U024BE7LH'];
const approvalOf = (stage: Stage) => stageApproval(stage, APPROVERS);

/** Every schedule of a stage, the rollback monitor's ticks included. */
function allOf(config: Parameters<typeof stageSchedules>[0]): StageSchedule[] {
  const s = stageSchedules(config);
  return [
    s.cohortStart,
    s.sessionIngestion,
    s.promotionStart,
    s.learningCycle,
    s.day3GoNoGo,
    s.dailyReport,
    ...s.rollbackMonitor,
  ];
}

describe('one source of schedules for the CDK app and the local replay', () => {
  it('deploys every schedule of the stage config, and the local replay fires the same ones, also after a config change', () => {
    // Prepare: a later promotion window and another go/no-go time
    const built = synthStage('dev', {
      'stagegate:dev': {
        approval: approvalOf('dev'),
        promotion: { windows: [{ opensAt: '10:30', closesAt: '15:00' }] },
        schedules: { day3GoNoGo: { expression: 'cron(45 16 ? * MON-FRI *)', enabled: false } },
      },
    });
    const config = built.env.config;

    // Act
    const local = replaySchedules({ config }, true, true);
    const chained = replaySchedules({ config }, true, false, 'equity-usa', 'alpaca-fake');
    const deployed = (name: string) => scheduleProps(built.workflow, name);

    // Assess: every schedule of the config is deployed as stageSchedules defines it
    const expected = allOf(config);
    expect(expected).toHaveLength(10);
    for (const s of expected) {
      expect(deployed(s.name)).toEqual(
        expect.objectContaining({
          ScheduleExpression: s.expression,
          ScheduleExpressionTimezone: s.timezone,
          State: s.enabled ? 'ENABLED' : 'DISABLED',
        }),
      );
    }
    // ... and the local firings are the deployed schedules, under the replay's names
    const byName = Object.fromEntries(local.map((s) => [s.name, s]));
    expect(deployed('promotion-start').ScheduleExpression).toBe('cron(30 10 ? * MON-FRI *)');
    expect(byName.promotion).toEqual({
      name: 'promotion',
      expression: deployed('promotion-start').ScheduleExpression,
      timezone: deployed('promotion-start').ScheduleExpressionTimezone,
    });
    expect(deployed('day3-go-no-go').ScheduleExpression).toBe('cron(45 16 ? * MON-FRI *)');
    expect(byName['go-no-go']?.expression).toBe(deployed('day3-go-no-go').ScheduleExpression);
    for (const [local, cdk] of [
      ['cohort-start', 'cohort-start'],
      ['learning-cycle', 'learning-cycle'],
      ['daily-report', 'daily-report'],
    ] as const) {
      expect(byName[local]?.expression).toBe(deployed(cdk).ScheduleExpression);
      expect(byName[local]?.timezone).toBe(deployed(cdk).ScheduleExpressionTimezone);
    }
    expect(chained.find((s) => s.name === 'session-ingestion')?.expression).toBe(
      deployed('session-ingestion').ScheduleExpression,
    );
  });

  it('fires the crypto cohort, promotion, learning, go/no-go and report schedules from the config, in UTC, also after a config change', () => {
    // Prepare: the default crypto block and one with moved cohort, promotion and learning times
    const defaults = loadEnvironmentConfig('dev');
    const moved = loadEnvironmentConfig('dev', {
      schedules: {
        crypto: {
          cohortStart: { expression: 'cron(15 0 * * ? *)', enabled: true },
          sessionIngestion: { expression: 'cron(10 0 * * ? *)', enabled: true },
          promotionStart: { expression: 'cron(0 2 * * ? *)', enabled: true },
          learningCycle: { expression: 'cron(0 6,18 * * ? *)', enabled: true },
        },
      },
    });

    // Act
    const local = replaySchedules({ config: moved }, true, true, 'crypto');
    const chained = replaySchedules({ config: moved }, true, false, 'crypto', 'alpaca-fake');
    const fromDefaults = replaySchedules({ config: defaults }, true, true, 'crypto');

    // Assess: the replay fires exactly stageSchedules(config).crypto, every one in UTC
    const crypto = stageSchedules(moved).crypto;
    expect(local).toEqual([
      { name: 'cohort-start', expression: 'cron(15 0 * * ? *)', timezone: 'UTC' },
      { name: 'promotion', expression: 'cron(0 2 * * ? *)', timezone: 'UTC' },
      { name: 'learning-cycle', expression: 'cron(0 6,18 * * ? *)', timezone: 'UTC' },
      { name: 'go-no-go', expression: crypto.day3GoNoGo.expression, timezone: 'UTC' },
      { name: 'daily-report', expression: crypto.dailyReport.expression, timezone: 'UTC' },
    ]);
    expect(chained).toEqual([
      { name: 'session-ingestion', expression: 'cron(10 0 * * ? *)', timezone: 'UTC' },
      { name: 'learning-cycle', expression: 'cron(0 6,18 * * ? *)', timezone: 'UTC' },
      // ... and the crypto daily report after the chain, as deployed (crypto-daily-report)
      { name: 'daily-report', expression: crypto.dailyReport.expression, timezone: 'UTC' },
    ]);
    // ... and the checked-in defaults are the crypto times the docs describe
    expect(Object.fromEntries(fromDefaults.map((s) => [s.name, s.expression]))).toEqual({
      'cohort-start': 'cron(5 0 * * ? *)',
      promotion: 'cron(0 1 * * ? *)',
      'learning-cycle': 'cron(30 0,12 * * ? *)',
      'go-no-go': 'cron(45 0 * * ? *)',
      'daily-report': 'cron(55 0 * * ? *)',
    });
  });

  it('refuses an invalid crypto schedule expression, naming the field', () => {
    // Act + Assess
    expect(() =>
      loadEnvironmentConfig('dev', {
        schedules: {
          crypto: { promotionStart: { expression: 'cron(0 25 * * ? *)', enabled: true } },
        },
      }),
    ).toThrow(/schedules\.crypto\.promotionStart\.expression/);
  });
});
