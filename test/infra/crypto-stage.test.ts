/**
 * The deployed crypto stage: a stage config with `cohort.cryptoSymbols` deploys the
 * `schedules.crypto` block (UTC, every day): the crypto session ingestion on its own state
 * machine (same ASL and function; `market: "crypto"` in its input) and its chain (cohort ->
 * learning -> Day-3 go/no-go), the crypto promotion, learning, go/no-go and cohort starts
 * (the last two DISABLED: the chain starts them), the crypto rollback-monitor ticks, and
 * did-not-run alarms that expect a run every day and treat missing data as breaching. Each
 * market's did-not-run alarms of the workflows both markets share (cohort, promotion,
 * learning, Day-3) and of the rollback monitor count that market's own starts
 * (`WorkflowStarts` / `RollbackMonitorTicks` by `market`), on a stage with both markets and
 * on an equity-only one, so crypto runs never hide a missing equity start. A stage without
 * crypto pairs deploys none of the crypto part; a bad crypto config is refused by name.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortRequestSchema } from '../../functions/core/use-cases/cohort-records.js';
import { LearningRequestSchema } from '../../functions/core/use-cases/learning.js';
import { PromotionRequestSchema } from '../../functions/core/use-cases/promotion-records.js';
import {
  IngestionRequestSchema,
  parseIngestionConfig,
} from '../../functions/core/use-cases/session-ingestion.js';
import { DAILY_REPORT_RUNS_METRIC } from '../../functions/handlers/post-daily-report.js';
import { ROLLBACK_MONITOR_TICKS_METRIC } from '../../functions/handlers/rollback-monitor.js';
import { WORKFLOW_STARTS_METRIC } from '../../functions/handlers/shared/workflow-starts.js';
import { parseEnvironmentConfig } from '../../lib/config/environment-config.js';
import { environments, loadEnvironmentConfig } from '../../lib/config/environments.js';
import { stageSchedules } from '../../lib/config/schedules.js';
import { stageApproval } from '../support/stage-approval.js';
import {
  arnOf,
  environmentOf,
  logicalIdOf,
  render,
  type SynthesizedStage,
  scheduleProps,
  synthStage,
} from './synth.js';

type Json = Record<string, unknown>;

const PAIRS = ['BTCUSD', 'ETHUSD'];
let crypto: SynthesizedStage;
let plain: SynthesizedStage;

beforeAll(() => {
  crypto = synthStage('dev', {
    'stagegate:dev': {
      approval: stageApproval('dev', ['slack:U024BE7LH']),
      cohort: { cryptoSymbols: PAIRS },
    },
  });
  plain = synthStage('dev', {
    'stagegate:dev': { approval: stageApproval('dev', ['slack:U024BE7LH']) },
  });
});

const inputOf = (schedule: Json) => JSON.parse(String((schedule.Target as Json).Input)) as Json;
const targetOf = (schedule: Json) => (schedule.Target as Json).Arn;

function alarmNamed(t: Template, name: string): Json {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm')).find(
    (r) => r.Properties.AlarmName === name,
  );
  if (!found) throw new Error(`no alarm ${name}`);
  return found.Properties as Json;
}

/** The one raw metric a did-not-run alarm reads: name and dimensions. */
function startsMetricOf(alarm: Json): { name: string; dimensions: Record<string, string> } {
  const stats = (alarm.Metrics as Json[]).filter((m) => m.MetricStat);
  expect(stats).toHaveLength(1);
  const metric = ((stats[0]?.MetricStat ?? {}) as Json).Metric as Json;
  const dims = (metric.Dimensions as { Name: string; Value: unknown }[]) ?? [];
  return {
    name: String(metric.MetricName),
    dimensions: Object.fromEntries(dims.map((d) => [d.Name, JSON.stringify(d.Value)])),
  };
}

const expressionOf = (alarm: Json) =>
  ((alarm.Metrics as Json[]).find((m) => m.ReturnData !== false) as Json).Expression;

/**
 * The equity did-not-run alarms of the shared targets enabled by default: schedule -> metric
 * and dimensions (cohort-start and day3-go-no-go are disabled by default: the chain starts them).
 */
const EQUITY_SIGNALS = [
  ['promotion-start', WORKFLOW_STARTS_METRIC, { workflow: 'promotion-pipeline' }],
  ['learning-cycle', WORKFLOW_STARTS_METRIC, { workflow: 'learning-cycle' }],
  ['rollback-monitor', ROLLBACK_MONITOR_TICKS_METRIC, {}],
] as const;

describe('the crypto stage, deployed when cohort.cryptoSymbols is set (dev)', () => {
  it('starts the crypto ingestion chain at 00:05 UTC every day on its own machine, with market crypto', () => {
    // Prepare
    const ingestion = crypto.env.workflow.ingestion;
    const chain = ingestion?.crypto;
    if (!ingestion || !chain) throw new Error('the crypto ingestion was not built');

    // Act
    const schedule = scheduleProps(crypto.workflow, 'crypto-session-ingestion');
    const machines = crypto.workflow.findResources('AWS::StepFunctions::StateMachine');
    const props = machines[logicalIdOf(chain.stateMachine)]?.Properties as Json;
    const subs = props.DefinitionSubstitutions as Json;
    const equity = machines[logicalIdOf(ingestion.stateMachine)]?.Properties as Json;
    const env = environmentOf(crypto.workflow, ingestion.ingestSession);

    // Assess: UTC, every day, the firing time and the market as input
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(5 0 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
    });
    expect(targetOf(schedule)).toEqual({ Ref: logicalIdOf(chain.stateMachine) });
    const input = inputOf(schedule);
    expect(input).toEqual({
      source: 'schedule',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      market: 'crypto',
    });
    expect(
      IngestionRequestSchema.safeParse({ ...input, scheduledTime: '2026-06-07T00:05:00Z' }).success,
    ).toBe(true);
    expect((schedule.Target as Json).DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(chain.scheduleDeadLetterQueue)),
    });
    // ... the same definition and function as the equity chain, chained to the same machines
    expect(props.StateMachineName).toBe('stagegate-dev-crypto-session-ingestion');
    expect(props.DefinitionString).toEqual(equity.DefinitionString);
    expect(subs).toEqual(equity.DefinitionSubstitutions);
    expect(subs.Day3Chained).toBe('true');
    // ... and the function knows the crypto universe
    const config = parseIngestionConfig(JSON.parse(String(env.INGESTION_CONFIG_JSON)));
    expect(config.cryptoSymbols).toEqual(PAIRS);
    expect(config.symbols).toEqual(crypto.env.config.cohort.symbols);
  });

  it('deploys the crypto promotion, learning, go/no-go and cohort starts in UTC, with inputs their workflows accept', () => {
    // Prepare
    const w = crypto.env.workflow;
    const day3 = w.day3;
    if (!day3) throw new Error('no Day-3');
    const expected = stageSchedules(crypto.env.config).crypto;

    // Act
    const promotion = scheduleProps(crypto.workflow, 'crypto-promotion-start');
    const learning = scheduleProps(crypto.workflow, 'crypto-learning-cycle');
    const goNoGo = scheduleProps(crypto.workflow, 'crypto-day3-go-no-go');
    const cohort = scheduleProps(crypto.workflow, 'crypto-cohort-start');

    // Assess
    for (const [s, want, machine] of [
      [promotion, expected.promotionStart, w.promotion.stateMachine],
      [learning, expected.learningCycle, w.learning.stateMachine],
      [goNoGo, expected.day3GoNoGo, day3.stateMachine],
      [cohort, expected.cohortStart, w.stateMachine],
    ] as const) {
      expect(s).toMatchObject({
        ScheduleExpression: want.expression,
        ScheduleExpressionTimezone: 'UTC',
        State: want.enabled ? 'ENABLED' : 'DISABLED',
      });
      expect(targetOf(s)).toEqual({ Ref: logicalIdOf(machine) });
    }
    expect([promotion.ScheduleExpression, promotion.State]).toEqual([
      'cron(0 1 * * ? *)',
      'ENABLED',
    ]);
    expect(learning.State).toBe('ENABLED');
    // The chain starts the cohort and the go/no-go: their own schedules are disabled
    expect(goNoGo.State).toBe('DISABLED');
    expect(cohort.State).toBe('DISABLED');
    expect(inputOf(promotion)).toEqual({ source: 'schedule', market: 'crypto' });
    expect(PromotionRequestSchema.safeParse(inputOf(promotion)).success).toBe(true);
    expect(LearningRequestSchema.safeParse(inputOf(learning)).success).toBe(true);
    expect(inputOf(goNoGo)).toEqual({ source: 'schedule', market: 'crypto' });
    const cohortInput = {
      ...inputOf(cohort),
      scheduledTime: '2026-06-07T00:05:00Z',
    };
    expect(cohortInput).toMatchObject({ market: 'crypto', symbols: PAIRS });
    expect(CohortRequestSchema.safeParse(cohortInput).success).toBe(true);
  });

  it('ticks the crypto rollback monitor in UTC every day, with the closing tick at 23:55 UTC', () => {
    // Prepare
    const monitor = crypto.env.workflow.day3?.approvalFunctions.rollbackMonitor;
    if (!monitor) throw new Error('no rollback monitor');
    const ticks = stageSchedules(crypto.env.config).crypto.rollbackMonitor;

    // Act
    const deployed = ticks.map((t) => scheduleProps(crypto.workflow, t.name));

    // Assess
    expect(ticks.length).toBeGreaterThan(1);
    for (const [i, s] of deployed.entries()) {
      const tick = ticks[i];
      expect(s.ScheduleExpression).toBe(tick?.expression);
      expect(s.ScheduleExpressionTimezone).toBe('UTC');
      expect(String(s.ScheduleExpression)).not.toContain('MON-FRI');
      expect(targetOf(s)).toEqual(arnOf(logicalIdOf(monitor)));
      expect(inputOf(s)).toEqual({
        scheduledTime: '<aws.scheduler.scheduled-time>',
        market: 'crypto',
        ...(tick?.closeOfDay ? { closeOfDay: true } : {}),
      });
    }
    const close = deployed.find((s) => inputOf(s).closeOfDay === true);
    expect(close?.ScheduleExpression).toBe('cron(55 23 * * ? *)');
    // The equity ticks stay weekdays in New York and watch equity slices
    const equity = scheduleProps(crypto.workflow, 'rollback-monitor-close');
    expect(equity.ScheduleExpressionTimezone).toBe('America/New_York');
    expect(inputOf(equity).market).toBeUndefined();
  });

  it('alarms when the crypto ingestion or the crypto rollback monitor did not run on any UTC day', () => {
    // Act
    const ingestion = alarmNamed(
      crypto.workflow,
      'stagegate-dev-crypto-session-ingestion-did-not-run',
    );
    const monitor = alarmNamed(
      crypto.workflow,
      'stagegate-dev-crypto-rollback-monitor-did-not-run',
    );
    const dlq = alarmNamed(crypto.workflow, 'stagegate-dev-crypto-schedule-dlq-not-empty');
    const failed = alarmNamed(
      crypto.workflow,
      'stagegate-dev-crypto-session-ingestion-executions-failed',
    );

    // Assess: every day (no weekday exemption), missing data breaching, below one start
    for (const a of [ingestion, monitor]) {
      expect(a).toMatchObject({
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      const metrics = a.Metrics as Json[];
      const top = metrics.find((m) => m.ReturnData !== false) as Json;
      expect(top.Expression).toBe('s');
      expect(JSON.stringify(metrics)).not.toContain('DAY(');
    }
    const chain = crypto.env.workflow.ingestion?.crypto;
    if (!chain) throw new Error('no crypto chain');
    expect(JSON.stringify(ingestion.Metrics)).toContain('ExecutionsStarted');
    expect(JSON.stringify(ingestion.Metrics)).toContain(logicalIdOf(chain.stateMachine));
    const tickMetric = JSON.stringify(monitor.Metrics);
    expect(tickMetric).toContain(ROLLBACK_MONITOR_TICKS_METRIC);
    expect(tickMetric).toContain('"Name":"market","Value":"crypto"');
    expect(dlq.Threshold).toBe(0);
    expect(failed.Threshold).toBe(1);
  });
});

describe('did-not-run alarms per market', () => {
  it.each([
    ['with both markets', () => crypto],
    ['equity-only', () => plain],
  ])('the equity alarms of a stage %s count equity starts only, weekdays', (_what, stage) => {
    // Act + Assess
    for (const [schedule, metric, dims] of EQUITY_SIGNALS) {
      const alarm = alarmNamed(stage().workflow, `stagegate-dev-${schedule}-did-not-run`);
      expect(alarm).toMatchObject({ Threshold: 1, TreatMissingData: 'breaching' });
      expect(expressionOf(alarm)).toBe('IF(DAY(s) < 6, s, 1)');
      const read = startsMetricOf(alarm);
      expect(read.name).toBe(metric);
      expect(read.dimensions).toEqual({
        service: '"stagegate"',
        market: '"equity-usa"',
        ...Object.fromEntries(Object.entries(dims).map(([k, v]) => [k, JSON.stringify(v)])),
      });
    }
  });

  it('gives the crypto promotion and learning schedules their own alarms, every UTC day', () => {
    // Act
    const promotion = alarmNamed(
      crypto.workflow,
      'stagegate-dev-crypto-promotion-start-did-not-run',
    );
    const learning = alarmNamed(crypto.workflow, 'stagegate-dev-crypto-learning-cycle-did-not-run');
    const alarms = Object.values(crypto.workflow.findResources('AWS::CloudWatch::Alarm')).map((r) =>
      String(r.Properties.AlarmName),
    );

    // Assess: market crypto, no weekday exemption, missing data breaching
    for (const [alarm, workflow] of [
      [promotion, 'promotion-pipeline'],
      [learning, 'learning-cycle'],
    ] as const) {
      expect(alarm).toMatchObject({
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      expect(expressionOf(alarm)).toBe('s');
      expect(startsMetricOf(alarm)).toEqual({
        name: WORKFLOW_STARTS_METRIC,
        dimensions: { service: '"stagegate"', workflow: `"${workflow}"`, market: '"crypto"' },
      });
    }
    // The crypto cohort and go/no-go schedules are disabled (the chain starts them): no alarm
    expect(alarms).not.toContain('stagegate-dev-crypto-cohort-start-did-not-run');
    expect(alarms).not.toContain('stagegate-dev-crypto-day3-go-no-go-did-not-run');
  });

  it('alarms a cohort or go/no-go schedule of either market that is enabled, by its market', () => {
    // Prepare
    const enabled = synthStage('dev', {
      'stagegate:dev': {
        approval: stageApproval('dev', ['slack:U024BE7LH']),
        cohort: { cryptoSymbols: PAIRS },
        schedules: {
          crypto: {
            cohortStart: { expression: 'cron(5 0 * * ? *)', enabled: true },
            day3GoNoGo: { expression: 'cron(45 0 * * ? *)', enabled: true },
          },
          cohortStart: { expression: 'cron(35 9 ? * MON-FRI *)', enabled: true },
          day3GoNoGo: { expression: 'cron(30 16 ? * MON-FRI *)', enabled: true },
        },
      },
    });

    // Act
    const cohort = alarmNamed(enabled.workflow, 'stagegate-dev-crypto-cohort-start-did-not-run');
    const goNoGo = alarmNamed(enabled.workflow, 'stagegate-dev-crypto-day3-go-no-go-did-not-run');

    // Assess
    expect(startsMetricOf(cohort).dimensions).toMatchObject({
      workflow: '"intraday-cohort"',
      market: '"crypto"',
    });
    expect(startsMetricOf(goNoGo).dimensions).toMatchObject({
      workflow: '"day3-go-no-go"',
      market: '"crypto"',
    });
    // ... and the equity ones, when enabled, count equity starts on weekdays
    for (const [schedule, workflow] of [
      ['cohort-start', 'intraday-cohort'],
      ['day3-go-no-go', 'day3-go-no-go'],
    ] as const) {
      const alarm = alarmNamed(enabled.workflow, `stagegate-dev-${schedule}-did-not-run`);
      expect(expressionOf(alarm)).toBe('IF(DAY(s) < 6, s, 1)');
      expect(startsMetricOf(alarm).dimensions).toMatchObject({
        workflow: `"${workflow}"`,
        market: '"equity-usa"',
      });
    }
  });

  it('no did-not-run alarm of a shared target reads its state machine starts or the monitor invocations', () => {
    // Prepare
    const w = crypto.env.workflow;
    const day3 = w.day3;
    const report = w.chatOps?.dailyReport.function;
    if (!day3 || !report) throw new Error('no Day-3 or no daily report');
    const shared = [
      w.stateMachine,
      w.promotion.stateMachine,
      w.learning.stateMachine,
      day3.stateMachine,
      day3.approvalFunctions.rollbackMonitor,
      // post-daily-report serves both markets' reports too
      report,
    ].map(logicalIdOf);

    // Act
    const didNotRun = Object.values(crypto.workflow.findResources('AWS::CloudWatch::Alarm'))
      .map((r) => r.Properties as Json)
      .filter((p) => String(p.AlarmName).endsWith('-did-not-run'));

    // Assess
    expect(didNotRun.length).toBeGreaterThan(8);
    for (const alarm of didNotRun) {
      const text = JSON.stringify(alarm.Metrics);
      for (const id of shared) expect(text).not.toContain(`"${id}"`);
    }
  });

  it('sends the equity learning schedule with market equity-usa (it learns from equity cohorts only)', () => {
    // Act
    const input = inputOf(scheduleProps(plain.workflow, 'learning-cycle'));

    // Assess
    expect(input).toEqual({ source: 'schedule', market: 'equity-usa' });
    expect(LearningRequestSchema.safeParse(input).success).toBe(true);
  });
});

describe('the crypto daily report', () => {
  it("is posted at 00:55 UTC every day, after the UTC day's 00:05 chain, to the same function with market crypto", () => {
    // Prepare
    const report = crypto.env.workflow.chatOps?.dailyReport;
    const chain = stageSchedules(crypto.env.config).crypto;
    if (!report?.crypto) throw new Error('the crypto daily report was not deployed');

    // Act
    const cryptoReport = scheduleProps(crypto.workflow, 'crypto-daily-report');
    const equityReport = scheduleProps(crypto.workflow, 'daily-report');

    // Assess: UTC, every day (the crypto calendar), after the ingestion chain's start
    expect(cryptoReport.ScheduleExpression).toBe('cron(55 0 * * ? *)');
    expect(cryptoReport.ScheduleExpression).toBe(chain.dailyReport.expression);
    expect(cryptoReport.ScheduleExpressionTimezone).toBe('UTC');
    expect(String(cryptoReport.ScheduleExpression)).not.toContain('MON-FRI');
    expect(chain.sessionIngestion.expression).toBe('cron(5 0 * * ? *)');
    expect(cryptoReport.State).toBe('ENABLED');
    // One function, each market named in its input (the handler's zod schema takes it)
    expect(targetOf(cryptoReport)).toEqual(arnOf(logicalIdOf(report.function)));
    expect(targetOf(equityReport)).toEqual(arnOf(logicalIdOf(report.function)));
    expect(inputOf(cryptoReport)).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
      market: 'crypto',
    });
    expect(inputOf(equityReport)).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
      market: 'equity-usa',
    });
    expect(equityReport.ScheduleExpressionTimezone).toBe('America/New_York');
    // Its own dead-letter queue, apart from the equity one's
    const dlq = render((cryptoReport.Target as Json).DeadLetterConfig);
    expect(dlq).toContain(logicalIdOf(report.crypto.deadLetterQueue));
    expect(logicalIdOf(report.crypto.deadLetterQueue)).not.toBe(
      logicalIdOf(report.deadLetterQueue),
    );
  });

  it('alarms its dead letters and a UTC day it did not run, counting crypto runs only', () => {
    // Prepare
    const queue = crypto.env.workflow.chatOps?.dailyReport.crypto?.deadLetterQueue;
    if (!queue) throw new Error('no crypto daily-report DLQ');

    // Act
    const dlq = alarmNamed(
      crypto.workflow,
      'stagegate-dev-crypto-daily-report-schedule-dlq-not-empty',
    );
    const cryptoRuns = alarmNamed(crypto.workflow, 'stagegate-dev-crypto-daily-report-did-not-run');
    const equityRuns = [crypto, plain].map((s) =>
      alarmNamed(s.workflow, 'stagegate-dev-daily-report-did-not-run'),
    );

    // Assess: crypto every day, equity weekdays; each reads its market's DailyReportRuns
    expect(dlq).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(JSON.stringify(dlq.Dimensions)).toContain(logicalIdOf(queue));
    expect(cryptoRuns).toMatchObject({ Threshold: 1, TreatMissingData: 'breaching' });
    expect(expressionOf(cryptoRuns)).toBe('s');
    expect(startsMetricOf(cryptoRuns)).toEqual({
      name: DAILY_REPORT_RUNS_METRIC,
      dimensions: { service: '"stagegate"', market: '"crypto"' },
    });
    for (const alarm of equityRuns) {
      expect(expressionOf(alarm)).toBe('IF(DAY(s) < 6, s, 1)');
      expect(startsMetricOf(alarm)).toEqual({
        name: DAILY_REPORT_RUNS_METRIC,
        dimensions: { service: '"stagegate"', market: '"equity-usa"' },
      });
    }
  });

  it('is not deployed on an equity-only stage, whose equity report is unchanged', () => {
    // Act
    const report = plain.env.workflow.chatOps?.dailyReport;
    const names = Object.values(plain.workflow.findResources('AWS::Scheduler::Schedule')).map((r) =>
      String(r.Properties.Name),
    );
    const queues = Object.values(plain.workflow.findResources('AWS::SQS::Queue')).map((r) =>
      String(r.Properties.QueueName),
    );

    // Assess
    expect(report?.crypto).toBeUndefined();
    expect(names).toContain('daily-report');
    expect(names).not.toContain('crypto-daily-report');
    expect(queues).toContain('stagegate-dev-daily-report-schedule-dlq');
    expect(queues).not.toContain('stagegate-dev-crypto-daily-report-schedule-dlq');
    expect(() =>
      alarmNamed(plain.workflow, 'stagegate-dev-crypto-daily-report-did-not-run'),
    ).toThrow();
  });
});

describe('a stage without crypto pairs', () => {
  it('deploys no crypto schedule, machine or alarm', () => {
    // Act
    const schedules = Object.values(plain.workflow.findResources('AWS::Scheduler::Schedule')).map(
      (r) => String(r.Properties.Name),
    );
    const alarms = Object.values(plain.workflow.findResources('AWS::CloudWatch::Alarm')).map((r) =>
      String(r.Properties.AlarmName),
    );

    // Assess
    expect(schedules.filter((n) => n.startsWith('crypto-'))).toEqual([]);
    expect(alarms.filter((n) => n.includes('crypto'))).toEqual([]);
    expect(plain.env.workflow.ingestion?.crypto).toBeUndefined();
    expect(plain.env.workflow.crypto).toBeUndefined();
  });

  it('refuses an equity symbol among the crypto pairs, and crypto pairs without a crypto window', () => {
    // Act + Assess
    expect(() => loadEnvironmentConfig('dev', { cohort: { cryptoSymbols: ['SPY'] } })).toThrow(
      /cohort\.cryptoSymbols\[0\]/,
    );
    const { cryptoWindow: _window, ...promotion } = environments.dev.promotion;
    expect(() =>
      parseEnvironmentConfig({
        ...environments.dev,
        cohort: { ...environments.dev.cohort, cryptoSymbols: ['BTCUSD'] },
        promotion,
      }),
    ).toThrow(/promotion\.cryptoWindow: is required when cohort\.cryptoSymbols is set/);
  });
});
