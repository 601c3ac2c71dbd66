/**
 * The session ingestion per stage and the chain it runs: its schedule (16:05 and 13:05 New
 * York on weekdays, `{source, scheduledTime}`, retries, dead-letter queue), the state
 * machine's order ingestion -> the session's cohort -> learning cycle -> Day-3 go/no-go (the
 * real ASL file walked along its success path, with the synthesized substitutions pointing
 * each step at the deployed machines), the stand-alone cohort and Day-3 schedules disabled,
 * the function's grants (Alpaca secret, the LEAN tree) and its settings.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortRequestSchema } from '../../functions/core/use-cases/cohort-records.js';
import {
  IngestionRequestSchema,
  parseIngestionConfig,
} from '../../functions/core/use-cases/session-ingestion.js';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { SESSION_INGESTION_ASL } from '../../lib/paths.js';
import { stageApproval } from '../support/stage-approval.js';
import {
  arnOf,
  asArray,
  environmentOf,
  logicalIdOf,
  objectGrantsOfRole,
  render,
  type SynthesizedStage,
  scheduleProps,
  statementsOfRole,
  synthStage,
} from './synth.js';

type Json = Record<string, unknown>;

const APPROVERS = ['slack:U024BE7LH'];
const withApprovers = (stage: Stage) => ({
  [`stagegate:${stage}`]: {
    approval: stageApproval(stage, APPROVERS),
  },
});

const plain = {} as Record<Stage, SynthesizedStage>;
/** dev with the Day-3 go/no-go deployed (one synth: the chain's wiring does not vary by stage). */
let withDay3: SynthesizedStage;

beforeAll(() => {
  for (const stage of STAGES) plain[stage] = synthStage(stage);
  withDay3 = synthStage('dev', withApprovers('dev'));
});

const ASL = JSON.parse(readFileSync(SESSION_INGESTION_ASL, 'utf8')) as {
  StartAt: string;
  States: Record<string, Json>;
};

/** The states a fully successful run passes through (Choices take their "go on" branch). */
function successPath(): string[] {
  const path: string[] = [];
  let name: string | undefined = ASL.StartAt;
  while (name) {
    path.push(name);
    const state = ASL.States[name] as Json;
    if (state.Type === 'Choice') {
      const choices = state.Choices as { Next: string; Variable: string }[];
      // Skips branch off to Record*Skipped; the "go on" branch is the other one.
      const go = choices.find(
        (c) => !/Skipped$/.test(c.Next) && c.Variable !== '$.ingestion.skipped',
      );
      name = go ? go.Next : (state.Default as string);
    } else {
      name = state.End === true || state.Type === 'Succeed' ? undefined : (state.Next as string);
    }
  }
  return path;
}

function ingestionOf(s: SynthesizedStage) {
  const ingestion = s.env.workflow.ingestion;
  if (!ingestion) throw new Error('the session ingestion was not built');
  return ingestion;
}

function machineProps(s: SynthesizedStage): Json {
  return s.workflow.findResources('AWS::StepFunctions::StateMachine')[
    logicalIdOf(ingestionOf(s).stateMachine)
  ]?.Properties as Json;
}

describe('the session chain (statemachines/session-ingestion.asl.json)', () => {
  it('runs ingestion, then the cohort, the learning cycle and the Day-3 go/no-go, in that order', () => {
    // Act
    const path = successPath();
    const tasks = path
      .map((n) => ASL.States[n] as Json)
      .filter((s) => s.Type === 'Task')
      .map((s) => {
        const params = s.Parameters as Json;
        return String(params.StateMachineArn ?? s.Resource).replace(/^\$\{(\w+)\}$/, '$1');
      });

    // Assess
    expect(tasks).toEqual([
      'IngestSessionFunctionArn',
      'RecordAuditFunctionArn',
      'IntradayCohortStateMachineArn',
      'LearningCycleStateMachineArn',
      'Day3StateMachineArn',
    ]);
    // The cohort and the learning cycle are awaited; a failure of either fails the chain.
    for (const step of ['RunCohort', 'RunLearningCycle']) {
      expect(ASL.States[step]?.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
      expect(JSON.stringify(ASL.States[step]?.Catch)).toContain('RecordFailure');
    }
  });

  it('starts the cohort with an input the cohort workflow accepts, on the included symbols only', () => {
    // Prepare: the input RunCohort builds, with an ingestion result's values
    const input = ((ASL.States.RunCohort as Json).Parameters as Json).Input as Json;
    const values: Json = {
      '$.ingestion.sessionDate': '2026-06-01',
      '$.ingestion.market': 'equity-usa',
      '$.ingestion.included': ['SPY', 'IBM'],
      '$.chain.bankrollUsd': 10_000,
      '$.chain.agentCount': 8,
      '$.chain.allocation': 'equal',
    };
    const resolved = Object.fromEntries(
      Object.entries(input).map(([k, v]) =>
        k.endsWith('.$') ? [k.slice(0, -2), values[String(v)]] : [k, v],
      ),
    );

    // Act
    const parsed = CohortRequestSchema.safeParse(resolved);

    // Assess
    expect(parsed.success).toBe(true);
    expect(resolved.symbols).toEqual(['SPY', 'IBM']);
    expect(input['symbols.$']).toBe('$.ingestion.included');
  });

  it('records the quality report, and a skip or failure starts no cohort', () => {
    // Assess
    expect(((ASL.States.RecordIngested as Json).Parameters as Json).draft).toMatchObject({
      kind: 'session_ingested',
    });
    expect(ASL.States['Ingested?']).toMatchObject({
      Choices: [{ Variable: '$.ingestion.skipped', BooleanEquals: true, Next: 'RecordSkipped' }],
    });
    expect(ASL.States.RecordSkipped?.Next).toBe('Skipped');
    expect(ASL.States.RecordFailure?.Next).toBe('Failed');
    expect(ASL.States.RecordCohortSkipped?.Next).toBe('NoCohort');
    expect(ASL.States.NoCohort?.Type).toBe('Fail');
  });
});

describe.each(STAGES)('session ingestion (%s)', (stage) => {
  it('is scheduled at 16:05 and 13:05 New York on weekdays with the firing time as input', () => {
    // Prepare
    const s = plain[stage];
    const ingestion = ingestionOf(s);

    // Act
    const schedule = scheduleProps(s.workflow, 'session-ingestion');
    const target = schedule.Target as Json;
    const input = JSON.parse(String(target.Input)) as Json;

    // Assess
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(5 13,16 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
    expect(target.Arn).toEqual({ Ref: logicalIdOf(ingestion.stateMachine) });
    expect(input).toEqual({ source: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(
      IngestionRequestSchema.safeParse({ ...input, scheduledTime: '2026-06-01T20:05:00Z' }).success,
    ).toBe(true);
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(ingestion.scheduleDeadLetterQueue)),
    });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 1800 });
  });

  it('replaces the stand-alone 09:35 cohort and 16:30 Day-3 schedules (deployed disabled)', () => {
    // Act / Assess
    expect(scheduleProps(plain[stage].workflow, 'cohort-start').State).toBe('DISABLED');
    expect(environments[stage].schedules.day3GoNoGo.enabled).toBe(false);
  });
});

describe('session ingestion with the Day-3 go/no-go deployed (dev)', () => {
  it('deploys the stand-alone 16:30 Day-3 schedule disabled', () => {
    expect(scheduleProps(withDay3.workflow, 'day3-go-no-go').State).toBe('DISABLED');
  });

  it('points the chain at the deployed cohort, learning and Day-3 machines', () => {
    // Prepare
    const s = withDay3;
    const stage = 'dev';
    const day3 = s.env.workflow.day3;
    if (!day3) throw new Error('no Day-3');

    // Act
    const subs = machineProps(s).DefinitionSubstitutions as Json;
    const withoutDay3 = machineProps(plain[stage]).DefinitionSubstitutions as Json;

    // Assess
    expect(subs.IntradayCohortStateMachineArn).toEqual({
      Ref: logicalIdOf(s.env.workflow.stateMachine),
    });
    expect(subs.LearningCycleStateMachineArn).toEqual({
      Ref: logicalIdOf(s.env.workflow.learning.stateMachine),
    });
    expect(subs.Day3StateMachineArn).toEqual({ Ref: logicalIdOf(day3.stateMachine) });
    expect(subs.Day3Chained).toBe('true');
    expect(withoutDay3.Day3Chained).toBe('false');
  });

  it('lets the chain start (and wait for) exactly its machines', () => {
    // Prepare
    const s = withDay3;
    const role = machineProps(s).RoleArn as Json;
    const roleId = (role['Fn::GetAtt'] as string[])[0] as string;

    // Act
    const starts = statementsOfRole(s.workflow, roleId)
      .filter((st) => asArray(st.Action as string | string[]).includes('states:StartExecution'))
      .flatMap((st) => asArray(st.Resource).map(render))
      .sort();

    // Assess
    const day3 = s.env.workflow.day3;
    if (!day3) throw new Error('no Day-3');
    expect(starts).toEqual(
      [
        `{${logicalIdOf(s.env.workflow.stateMachine)}}`,
        `{${logicalIdOf(s.env.workflow.learning.stateMachine)}}`,
        `{${logicalIdOf(day3.stateMachine)}}`,
      ].sort(),
    );
  });
});

describe.each(STAGES)('session ingestion function (%s)', (stage) => {
  it('gives the function the Alpaca secret, the LEAN tree and the universe of the cohort', () => {
    // Prepare
    const s = plain[stage];
    const fn = ingestionOf(s).ingestSession;
    const roleId = logicalIdOf(fn.executionRole);

    // Act
    const env = environmentOf(s.workflow, fn);
    const objects = objectGrantsOfRole(s.workflow, roleId, stage);
    const secretReads = statementsOfRole(s.workflow, roleId).filter((st) =>
      asArray(st.Action as string | string[]).includes('secretsmanager:GetSecretValue'),
    );

    // Assess
    expect(parseIngestionConfig(JSON.parse(String(env.INGESTION_CONFIG_JSON))).symbols).toEqual(
      environments[stage].cohort.symbols,
    );
    expect(env.ALPACA_DATA_FEED).toBe('iex');
    expect(env.ALPACA_SECRET_ARN).toBeDefined();
    expect(objects['s3:GetObject']).toContain('market-data/lean/*');
    expect(objects['s3:PutObject']).toContain('market-data/lean/*');
    expect(secretReads).toHaveLength(1);
  });
});
