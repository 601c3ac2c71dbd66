/**
 * The learning cycle per stage: its schedule (expression and zone from config, retries,
 * dead-letter queue, `{"source":"schedule"}`), the state machine's substitutions and invoke
 * permissions, the function's settings (`LEARNING_CONFIG_JSON` from config) and its
 * least-privilege grants (genome pool, cohort reads, audit appends).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { LearningConfigSchema } from '../../functions/core/use-cases/learning.js';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments, loadEnvironmentConfig } from '../../lib/config/environments.js';
import { learningEnvironment } from '../../lib/config/runtime-env.js';
import { aslPlaceholders } from '../../lib/constructs/asl-state-machine.js';
import { HANDLERS, LEARNING_HANDLERS } from '../../lib/handlers.js';
import { LEARNING_CYCLE_ASL } from '../../lib/paths.js';
import {
  arnOf,
  asArray,
  environmentOf,
  logicalIdOf,
  objectGrantsOfRole,
  type SynthesizedStage,
  scheduleProps,
  statementsOfRole,
  synthStage,
  tableGrantsOfRole,
} from './synth.js';

const built = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
});

describe.each(STAGES)('learning cycle (%s)', (stage) => {
  const config = environments[stage];

  it('schedules the cycle at 12:00 and 16:00 New York on weekdays, window off', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const schedule = scheduleProps(workflow, 'learning-cycle');

    // Assess
    expect(schedule).toEqual(
      expect.objectContaining({
        GroupName: `stagegate-${stage}`,
        ScheduleExpression: 'cron(0 12,16 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'America/New_York',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      }),
    );
  });

  it('targets the learning state machine with retries, a dead-letter queue and a schedule input', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const learning = env.workflow.learning;

    // Act
    const target = scheduleProps(workflow, 'learning-cycle').Target as Record<string, unknown>;

    // Assess
    expect(target.Arn).toEqual({ Ref: logicalIdOf(learning.stateMachine) });
    expect(JSON.parse(String(target.Input))).toEqual({ source: 'schedule', market: 'equity-usa' });
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(learning.scheduleDeadLetterQueue)),
    });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 1800 });
    workflow.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `stagegate-${stage}-learning-schedule-dlq`,
      SqsManagedSseEnabled: true,
    });
  });

  it('substitutes every placeholder of the learning ASL with the right function', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const learning = env.workflow.learning;

    // Act
    const machine = workflow.findResources('AWS::StepFunctions::StateMachine')[
      logicalIdOf(learning.stateMachine)
    ];
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;

    // Assess
    expect(machine?.Properties).toEqual(
      expect.objectContaining({
        StateMachineName: `stagegate-${stage}-learning-cycle`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
      }),
    );
    expect(Object.keys(substitutions).sort()).toEqual(aslPlaceholders(LEARNING_CYCLE_ASL));
    expect(substitutions[LEARNING_HANDLERS.runLearningCycle.aslPlaceholder]).toEqual(
      arnOf(logicalIdOf(learning.functions.runLearningCycle)),
    );
    expect(substitutions[HANDLERS.recordAudit.aslPlaceholder]).toEqual(
      arnOf(logicalIdOf(env.workflow.functions.recordAudit)),
    );
  });

  it('lets the learning state machine invoke exactly its two functions', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const roleId = logicalIdOf(env.workflow.learning.stateMachine.role);

    // Act
    const statements = statementsOfRole(workflow, roleId).filter(
      (s) => !asArray(s.Action as string | string[]).some((a) => /^(logs|xray):/.test(a)),
    );

    // Assess
    expect(statements.flatMap((s) => asArray(s.Action as string | string[]))).toEqual([
      'lambda:InvokeFunction',
    ]);
    expect(statements.flatMap((s) => asArray(s.Resource)).map((r) => JSON.stringify(r))).toEqual(
      expect.arrayContaining([
        JSON.stringify(arnOf(logicalIdOf(env.workflow.learning.functions.runLearningCycle))),
        JSON.stringify(arnOf(logicalIdOf(env.workflow.functions.recordAudit))),
      ]),
    );
    expect(statements.flatMap((s) => asArray(s.Resource))).toHaveLength(2);
  });

  it('passes the configured learning settings as LEARNING_CONFIG_JSON', () => {
    // Prepare
    const { workflow, env } = built[stage];

    // Act
    const vars = environmentOf(workflow, env.workflow.learning.functions.runLearningCycle);
    const parsed = LearningConfigSchema.parse(JSON.parse(String(vars.LEARNING_CONFIG_JSON)));

    // Assess
    expect(parsed).toEqual(config.learning);
    expect(vars.POWERTOOLS_SERVICE_NAME).toBe('run-learning-cycle');
  });

  it('grants the genome pool, cohort reads and audit appends, nothing more', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const roleId = logicalIdOf(env.workflow.learning.functions.runLearningCycle.executionRole);

    // Act
    const tables = tableGrantsOfRole(workflow, roleId);
    const objects = objectGrantsOfRole(workflow, roleId, stage);

    // Assess
    expect(tables).toEqual({
      'dynamodb:GetItem': ['AUDIT_STREAM#*', 'GENOME_POOL'],
      'dynamodb:PutItem': ['GENOME_POOL'],
      'dynamodb:Query': ['COHORT#*', 'GENOME_POOL', 'index:gsi1'],
      'dynamodb:UpdateItem': ['AUDIT_STREAM#*'],
    });
    expect(objects['s3:PutObject']).toEqual([
      `audit/audit-dead-letter/env=${stage}/*`,
      `audit/audit/env=${stage}/*`,
    ]);
    expect(objects['s3:GetObject']).toEqual([`audit/audit/env=${stage}/*`]);
  });
});

describe('learning settings from config', () => {
  it('defaults every stage to a 24 h lookback, 4 elites, rates 0.3 / 0.5, tournaments of 3, 1 validation and 3 training sessions', () => {
    // Prepare / Act
    const settings = STAGES.map((stage) => environments[stage].learning);

    // Assess
    for (const s of settings) {
      expect(s).toEqual({
        lookbackHours: 24,
        eliteCount: 4,
        mutationRate: 0.3,
        crossoverRate: 0.5,
        tournamentSize: 3,
        validationSessions: 1,
        trainingSessions: 3,
      });
    }
  });

  it('learningEnvironment returns exactly LEARNING_CONFIG_JSON, parseable by the handler schema', () => {
    // Prepare
    const config = loadEnvironmentConfig('dev', { learning: { lookbackHours: 6 } });

    // Act
    const env = learningEnvironment(config);

    // Assess
    expect(Object.keys(env)).toEqual(['LEARNING_CONFIG_JSON']);
    expect(LearningConfigSchema.parse(JSON.parse(env.LEARNING_CONFIG_JSON))).toEqual({
      ...config.learning,
      lookbackHours: 6,
    });
  });

  it.each([
    [{ lookbackHours: 8 }, 'learning.lookbackHours'],
    [{ mutationRate: 1.5 }, 'learning.mutationRate'],
    [{ crossoverRate: -0.1 }, 'learning.crossoverRate'],
    [{ eliteCount: 1.5 }, 'learning.eliteCount'],
    [{ tournamentSize: 0 }, 'learning.tournamentSize'],
    [{ validationSessions: -1 }, 'learning.validationSessions'],
    [{ trainingSessions: 0 }, 'learning.trainingSessions'],
  ])('rejects %j naming %s', (learning, field) => {
    // Prepare / Act
    let error: unknown;
    try {
      loadEnvironmentConfig('staging', { learning });
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('rejects an invalid learning schedule naming schedules.learningCycle.expression', () => {
    // Prepare
    const overrides = {
      schedules: { learningCycle: { expression: 'cron(0 12,16 * * MON-FRI *)' } },
    };

    // Act
    let error: unknown;
    try {
      loadEnvironmentConfig('prod', overrides);
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('schedules.learningCycle.expression');
  });

  it('synthesizes an overridden, disabled learning schedule', () => {
    // Prepare
    const override = {
      schedules: { learningCycle: { expression: 'cron(0 10,14 ? * MON-FRI *)', enabled: false } },
    };

    // Act
    const { workflow } = synthStage('dev', { 'stagegate:dev': override });
    const schedule = scheduleProps(workflow, 'learning-cycle');

    // Assess
    expect(schedule.ScheduleExpression).toBe('cron(0 10,14 ? * MON-FRI *)');
    expect(schedule.State).toBe('DISABLED');
  });
});
