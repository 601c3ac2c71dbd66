/**
 * What an operator needs to hear about, per stage (Day-3 deployed): every asynchronous
 * Lambda invocation (a Scheduler -> Lambda target) has an SQS failure destination that is
 * alarmed; every enabled schedule has a "did not run" alarm on its target's starts per UTC
 * day, with missing data breaching (weekday-only schedules only on weekdays); every function
 * has a throttle alarm, every state machine a time-out and a throttle alarm; the dashboard
 * shows every alarm.
 */
import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { stageApproval } from '../support/stage-approval.js';
import { type SynthesizedStage, synthStage } from './synth.js';

type Json = Record<string, unknown>;

const built = {} as Record<Stage, SynthesizedStage>;
let withCrypto: SynthesizedStage;
beforeAll(() => {
  withCrypto = synthStage('dev', {
    'stagegate:dev': {
      approval: stageApproval('dev', ['slack:U024BE7LH']),
      cohort: { cryptoSymbols: ['BTCUSD', 'ETHUSD'] },
    },
  });
  for (const stage of STAGES) {
    built[stage] = synthStage(stage, {
      [`stagegate:${stage}`]: {
        approval: stageApproval(stage, ['slack:U024BE7LH']),
      },
    });
  }
});

function resources(t: Template, type: string): [string, Json][] {
  return Object.entries(t.findResources(type)).map(([id, r]) => [id, r as Json]);
}
const props = (r: Json) => r.Properties as Json;

/** Logical id behind `{Ref: X}` or `{Fn::GetAtt: [X, ...]}`. */
function refId(value: unknown): string | undefined {
  const v = value as Json | undefined;
  if (!v) return undefined;
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt'])) return String((v['Fn::GetAtt'] as unknown[])[0]);
  return undefined;
}

/** Logical ids each alarm's metrics point at (dimension values), by alarm name. */
function alarmTargets(t: Template): Map<string, { props: Json; targets: Set<string> }> {
  const out = new Map<string, { props: Json; targets: Set<string> }>();
  for (const [, r] of resources(t, 'AWS::CloudWatch::Alarm')) {
    const p = props(r);
    const dims: unknown[] = [];
    for (const m of (p.Metrics as Json[] | undefined) ?? []) {
      const stat = m.MetricStat as { Metric: { Dimensions?: Json[] } } | undefined;
      dims.push(...(stat?.Metric.Dimensions ?? []).map((d) => d.Value));
    }
    dims.push(...((p.Dimensions as Json[] | undefined) ?? []).map((d) => d.Value));
    const targets = new Set(dims.map(refId).filter((x): x is string => x !== undefined));
    // Queue metrics name the queue by its QueueName attribute.
    out.set(String(p.AlarmName), { props: p, targets });
  }
  return out;
}

/**
 * Every enabled schedule of `synth` has a did-not-run alarm (missing data breaching, weekday
 * schedules only on weekdays); a target both markets share (cohort, promotion, learning and
 * Day-3 machines, the rollback monitor, the daily report) is counted by the schedule's market
 * (EMF `WorkflowStarts` / `RollbackMonitorTicks` / `DailyReportRuns`), never by the target's
 * own metrics.
 */
function expectDidNotRunAlarms(synth: SynthesizedStage, stage: Stage): void {
  // Prepare: the targets both markets share count their starts by market (EMF)
  const { workflow, env } = synth;
  const w = env.workflow;
  const shared = new Set(
    [
      w.stateMachine,
      w.promotion.stateMachine,
      w.learning.stateMachine,
      ...(w.day3 ? [w.day3.stateMachine, w.day3.approvalFunctions.rollbackMonitor] : []),
      ...(w.chatOps ? [w.chatOps.dailyReport.function] : []),
    ].map((c) => Stack.of(c).getLogicalId(c.node.defaultChild as never)),
  );
  const alarms = alarmTargets(workflow);

  // Act
  const schedules = resources(workflow, 'AWS::Scheduler::Schedule')
    .map(([, r]) => props(r))
    .filter((p) => p.State === 'ENABLED')
    .map((p) => {
      const target = p.Target as Json;
      const input = JSON.parse(String(target.Input ?? '{}')) as Json;
      return {
        // One alarm for all the ticks of a market's rollback monitor
        alarm: String(p.Name).replace(/-(open|session|last-hour|close|day)$/, ''),
        target: refId(target.Arn) ?? '',
        market: String(input.market ?? 'equity-usa'),
        weekdays: String(p.ScheduleExpression).includes('MON-FRI'),
      };
    });

  // Assess
  expect(schedules.length).toBeGreaterThan(5);
  for (const s of schedules) {
    const alarm = alarms.get(`stagegate-${stage}-${s.alarm}-did-not-run`);
    expect(alarm?.props, s.alarm).toEqual(
      expect.objectContaining({
        TreatMissingData: 'breaching',
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
      }),
    );
    const metrics = (alarm?.props.Metrics ?? []) as Json[];
    const expression = metrics.find((m) => m.ReturnData !== false);
    expect(expression?.Expression).toBe(s.weekdays ? 'IF(DAY(s) < 6, s, 1)' : 's');
    const stat = metrics.find((m) => m.MetricStat)?.MetricStat as Json | undefined;
    expect(stat?.Period).toBe(86_400);
    if (shared.has(s.target)) {
      // The market's own starts, never the shared target's metrics
      const metric = stat?.Metric as { MetricName: string; Dimensions: Json[] };
      expect(['WorkflowStarts', 'RollbackMonitorTicks', 'DailyReportRuns']).toContain(
        metric.MetricName,
      );
      expect(metric.Dimensions).toContainEqual({ Name: 'market', Value: s.market });
      expect(alarm?.targets.has(s.target)).toBe(false);
    } else {
      expect(alarm?.targets.has(s.target), s.alarm).toBe(true);
    }
  }
}

describe.each(STAGES)('operability of %s', (stage) => {
  it('gives every Scheduler -> Lambda (asynchronous) target an alarmed SQS failure destination', () => {
    // Prepare
    const { workflow } = built[stage];
    const alarms = alarmTargets(workflow);

    // Act
    const asyncTargets = new Set(
      resources(workflow, 'AWS::Scheduler::Schedule')
        .map(([, r]) => (props(r).Target as Json).Arn)
        .filter((arn) => JSON.stringify(arn).includes('"Arn"'))
        .map(refId)
        .filter((id) => {
          const type = (workflow.toJSON().Resources[id ?? ''] as Json | undefined)?.Type;
          return type === 'AWS::Lambda::Function';
        }),
    );
    const configs = resources(workflow, 'AWS::Lambda::EventInvokeConfig').map(([, r]) => props(r));
    const destinations = [...asyncTargets].map((fn) => {
      const c = configs.find((x) => refId(x.FunctionName) === fn);
      const dest = (c?.DestinationConfig as Json | undefined)?.OnFailure as Json | undefined;
      return refId(dest?.Destination);
    });

    // Assess
    expect(asyncTargets.size).toBeGreaterThan(0);
    for (const queue of destinations) {
      expect(workflow.toJSON().Resources[queue ?? '']?.Type).toBe('AWS::SQS::Queue');
      const alarmed = [...alarms.values()].some((a) => a.targets.has(queue ?? ''));
      expect(alarmed).toBe(true);
    }
  });

  it('has a "did not run" alarm per enabled schedule, missing data breaching, per market on shared targets', () => {
    expectDidNotRunAlarms(built[stage], stage);
  });

  it('alarms on throttles of every function and on time-outs and throttles of every state machine', () => {
    // Prepare
    const { workflow } = built[stage];
    const alarms = [...alarmTargets(workflow).values()];
    const metricOf = (a: { props: Json }) => a.props.MetricName;

    // Act
    const functions = resources(workflow, 'AWS::Lambda::Function').map(([id]) => id);
    const machines = resources(workflow, 'AWS::StepFunctions::StateMachine').map(([id]) => id);

    // Assess
    for (const fn of functions) {
      expect(alarms.some((a) => metricOf(a) === 'Throttles' && a.targets.has(fn))).toBe(true);
    }
    for (const m of machines) {
      for (const metric of ['ExecutionsTimedOut', 'ExecutionThrottled']) {
        expect(alarms.some((a) => metricOf(a) === metric && a.targets.has(m))).toBe(true);
      }
    }
  });

  it('shows every alarm on the dashboard', () => {
    // Prepare
    const { workflow } = built[stage];
    const names = resources(workflow, 'AWS::CloudWatch::Alarm').map(([id]) => id);

    // Act
    const body = JSON.stringify(
      resources(workflow, 'AWS::CloudWatch::Dashboard').map(([, r]) => props(r).DashboardBody),
    );

    // Assess
    for (const id of names) expect(body).toContain(`"${id}"`);
  });
});

describe('operability of dev with crypto pairs (both markets on one stage)', () => {
  it('has a "did not run" alarm per enabled schedule of each market, per market on shared targets', () => {
    expect(withCrypto.env.workflow.crypto).toBeDefined();
    expectDidNotRunAlarms(withCrypto, 'dev');
  });
});
