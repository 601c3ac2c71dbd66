/**
 * Per-environment configuration: the defaults of every stage validate, and invalid values
 * fail with a ValidationError naming the field (bad cron, bad timezone, bankroll out of
 * range, live broker without the flag, ...). Also the CDK-context resolution of lib/app.ts.
 */
import { App } from 'aws-cdk-lib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { resolveStageConfig, selectedStages } from '../../lib/app.js';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments, loadEnvironmentConfig } from '../../lib/config/environments.js';
import { chatOpsConfigOf, pipelineEnvironment } from '../../lib/config/runtime-env.js';
import {
  isKnownTimeZone,
  scheduleExpressionProblem,
  weekdayCronAt,
} from '../../lib/config/schedule-expression.js';

/** Runs `fn`, returns the ValidationError it threw (fails the test if it did not throw one). */
function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

describe('environments (checked-in defaults)', () => {
  it.each(STAGES)(
    '%s validates and schedules the cohort at 09:35 New York on weekdays',
    (stage) => {
      // Prepare / Act
      const config = environments[stage];

      // Assess
      expect(config.stage).toBe(stage);
      expect(config.schedules.cohortStart.expression).toBe('cron(35 9 ? * MON-FRI *)');
      expect(config.schedules.timezone).toBe('America/New_York');
      expect(config.broker.mode).toBe('paper');
      expect(config.broker.adapter).toBe('simulated');
      expect(config.schedules.promotionStart.enabled).toBe(true);
      expect(config.cohort.bankrollUsd).toBeGreaterThanOrEqual(config.cohort.bankrollLimits.minUsd);
      expect(config.cohort.bankrollUsd).toBeLessThanOrEqual(config.cohort.bankrollLimits.maxUsd);
      expect(config.cohort.shardAgents).toBe(250);
    },
  );

  it('differs per stage where it must: lock mode, keys, removal policy', () => {
    // Prepare / Act
    const { dev, staging, prod } = environments;

    // Assess
    expect([
      dev.audit.objectLockMode,
      staging.audit.objectLockMode,
      prod.audit.objectLockMode,
    ]).toEqual(['GOVERNANCE', 'GOVERNANCE', 'COMPLIANCE']);
    expect([
      dev.kms.customerManagedKey,
      staging.kms.customerManagedKey,
      prod.kms.customerManagedKey,
    ]).toEqual([false, true, true]);
    expect(prod.removalPolicy).toBe('retain');
    expect(dev.removalPolicy).toBe('destroy');
  });
});

describe('chatOpsConfigOf (CHATOPS_CONFIG_JSON)', () => {
  it('accepts every drawdown limit and minimum PSR the gates accept, up to 1', () => {
    // Prepare: the widest values the gate thresholds allow ((0, 1]), as a replay that opens
    // every gate uses them.
    const config = loadEnvironmentConfig('dev', {
      gates: { maxParentDrawdownFraction: 1, minPsr: 1 },
    });

    // Act
    const chatOps = chatOpsConfigOf(config);

    // Assess
    expect(chatOps.maxDrawdownFraction).toBe(1);
    expect(chatOps.minPsr).toBe(1);
  });
});

describe('loadEnvironmentConfig rejects invalid values, naming the field', () => {
  const cases: { name: string; stage: Stage; overrides: Record<string, unknown>; field: string }[] =
    [
      {
        name: 'cron with both day-of-month and day-of-week',
        stage: 'dev',
        overrides: { schedules: { cohortStart: { expression: 'cron(35 9 * * MON-FRI *)' } } },
        field: 'schedules.cohortStart.expression',
      },
      {
        name: 'cron with minute 61',
        stage: 'staging',
        overrides: { schedules: { cohortStart: { expression: 'cron(61 9 ? * MON-FRI *)' } } },
        field: 'schedules.cohortStart.expression',
      },
      {
        name: 'five-field (Unix) cron',
        stage: 'prod',
        overrides: { schedules: { cohortStart: { expression: 'cron(35 9 * * 1-5)' } } },
        field: 'schedules.cohortStart.expression',
      },
      {
        name: 'rate with a plural unit for 1',
        stage: 'dev',
        overrides: { schedules: { cohortStart: { expression: 'rate(1 hours)' } } },
        field: 'schedules.cohortStart.expression',
      },
      {
        name: 'misspelt time zone',
        stage: 'dev',
        overrides: { schedules: { timezone: 'America/New_Yrok' } },
        field: 'schedules.timezone',
      },
      {
        name: 'bankroll above the maximum',
        stage: 'staging',
        overrides: { cohort: { bankrollUsd: 1_000_000 } },
        field: 'cohort.bankrollUsd',
      },
      {
        name: 'bankroll below the minimum',
        stage: 'prod',
        overrides: { cohort: { bankrollUsd: 10 } },
        field: 'cohort.bankrollUsd',
      },
      {
        name: 'bankroll limit beyond what the cohort runtime accepts',
        stage: 'prod',
        overrides: { cohort: { bankrollLimits: { maxUsd: 1_000_000 } } },
        field: 'cohort.bankrollLimits.maxUsd',
      },
      {
        name: 'more agents than the cohort runtime accepts',
        stage: 'dev',
        overrides: { cohort: { agentCount: 5_000 } },
        field: 'cohort.agentCount',
      },
      {
        name: 'shard size of zero agents',
        stage: 'dev',
        overrides: { cohort: { shardAgents: 0 } },
        field: 'cohort.shardAgents',
      },
      {
        name: 'shard size above the cohort maximum',
        stage: 'prod',
        overrides: { cohort: { shardAgents: 1_001 } },
        field: 'cohort.shardAgents',
      },
      {
        name: 'fractional shard size',
        stage: 'staging',
        overrides: { cohort: { shardAgents: 12.5 } },
        field: 'cohort.shardAgents',
      },
      {
        name: 'live broker without allowLiveBroker',
        stage: 'prod',
        overrides: { broker: { mode: 'live' } },
        field: 'broker.mode',
      },
      {
        name: 'prod audit in GOVERNANCE mode',
        stage: 'prod',
        overrides: { audit: { objectLockMode: 'GOVERNANCE' } },
        field: 'audit.objectLockMode',
      },
      {
        name: 'log retention CloudWatch does not offer',
        stage: 'dev',
        overrides: { logs: { retentionDays: 13 } },
        field: 'logs.retentionDays',
      },
      {
        name: 'Athena cutoff below 10 MB',
        stage: 'dev',
        overrides: { athena: { bytesScannedCutoffPerQuery: 1_000 } },
        field: 'athena.bytesScannedCutoffPerQuery',
      },
      {
        name: 'lower-case ticker',
        stage: 'dev',
        overrides: { cohort: { symbols: ['SPY', 'ibm'] } },
        field: 'cohort.symbols[1]',
      },
      {
        name: 'promotion window closing before it opens',
        stage: 'dev',
        overrides: { promotion: { windows: [{ opensAt: '15:00', closesAt: '10:00' }] } },
        field: 'promotion.windows[0].closesAt',
      },
      {
        name: 'two promotion windows (only one per stage is ever used)',
        stage: 'dev',
        overrides: {
          promotion: {
            windows: [
              { opensAt: '10:00', closesAt: '11:00' },
              { opensAt: '14:00', closesAt: '15:00' },
            ],
          },
        },
        field: 'promotion.windows',
      },
      {
        name: 'malformed simulated broker account id',
        stage: 'dev',
        overrides: { broker: { simulated: { accountId: 'paper 1' } } },
        field: 'broker.simulated.accountId',
      },
      {
        name: 'unknown broker adapter',
        stage: 'staging',
        overrides: { broker: { adapter: 'alpaca-live' } },
        field: 'broker.adapter',
      },
      {
        name: 'malformed account id',
        stage: 'staging',
        overrides: { account: '1234' },
        field: 'account',
      },
    ];

  it.each(cases)('$name -> $field', ({ stage, overrides, field }) => {
    // Prepare / Act
    const error = validationErrorOf(() => loadEnvironmentConfig(stage, overrides));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('accepts a live broker only where allowLiveBroker is true', () => {
    // Prepare
    const overrides = { broker: { mode: 'live', allowLiveBroker: true } } as const;

    // Act
    const config = loadEnvironmentConfig('staging', overrides);

    // Assess
    expect(config.broker).toMatchObject({ mode: 'live', allowLiveBroker: true });
    expect(environments.staging.broker.mode).toBe('paper');
  });

  it.each(STAGES)('refuses the demo override of the evidence gates in %s', (stage) => {
    // Prepare / Act
    const error = validationErrorOf(() =>
      loadEnvironmentConfig(stage, { promotion: { demoOverride: true } } as never),
    );

    // Assess
    expect(error.field).toBe('promotion.demoOverride');
    expect(error.message).toContain('refused in every deployed stage');
  });

  it.each([0, 2.5, 21])('refuses a VaR / ES lookback of %s sessions, naming the field', (n) => {
    const error = validationErrorOf(() =>
      loadEnvironmentConfig('staging', { gates: { riskLookbackSessions: n } }),
    );
    expect(error.field).toBe('gates.riskLookbackSessions');
  });

  it('carries the VaR / ES lookback per stage (3 sessions by default) into the pipeline thresholds', () => {
    for (const stage of STAGES) expect(environments[stage].gates.riskLookbackSessions).toBe(3);
    const config = loadEnvironmentConfig('prod', { gates: { riskLookbackSessions: 5 } });
    const env = pipelineEnvironment(config);
    expect(JSON.parse(env.GATE_THRESHOLDS_JSON ?? '{}')).toMatchObject({ riskLookbackSessions: 5 });
  });

  it('requires PSR and DSR of at least 0.95 on 20 sessions by default in every stage', () => {
    for (const stage of STAGES) {
      expect(environments[stage].gates).toMatchObject({
        minPsr: 0.95,
        minDsr: 0.95,
        minEvidenceSessions: 20,
      });
    }
  });

  it('rejects an unknown stage naming the field "stage"', () => {
    // Prepare / Act
    const error = validationErrorOf(() => loadEnvironmentConfig('qa' as Stage));

    // Assess
    expect(error.field).toBe('stage');
  });

  it('keeps any bankroll inside the limits and rejects any outside (property)', () => {
    // Prepare
    const { minUsd, maxUsd } = environments.staging.cohort.bankrollLimits;

    // Act / Assess
    fc.assert(
      fc.property(fc.double({ min: 1, max: 10 * maxUsd, noNaN: true }), (bankrollUsd) => {
        const inside = bankrollUsd >= minUsd && bankrollUsd <= maxUsd;
        if (inside) {
          expect(
            loadEnvironmentConfig('staging', { cohort: { bankrollUsd } }).cohort.bankrollUsd,
          ).toBe(bankrollUsd);
        } else {
          expect(
            validationErrorOf(() => loadEnvironmentConfig('staging', { cohort: { bankrollUsd } }))
              .field,
          ).toBe('cohort.bankrollUsd');
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('scheduleExpressionProblem', () => {
  it.each([
    'cron(35 9 ? * MON-FRI *)',
    'cron(0/15 9-16 ? * MON-FRI *)',
    'cron(0 10 L * ? *)',
    'cron(0 10 15W * ? *)',
    'cron(0 10 ? * 6#3 *)',
    'cron(0 10 ? * 6L 2026-2030)',
    'cron(0,30 9,12 ? JAN-MAR,OCT * *)',
    'rate(1 minute)',
    'rate(3 hours)',
    'at(2026-01-02T09:35:00)',
  ])('accepts %s', (expression) => {
    // Prepare / Act
    const problem = scheduleExpressionProblem(expression);

    // Assess
    expect(problem).toBeUndefined();
  });

  it.each([
    ['cron(35 9 ? * ? *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(35 24 ? * MON-FRI *)', 'hours'],
    ['cron(35 9 ? * FRI-MON *)', 'wrapping'],
    ['cron(35 9 ? * MON-FRI 1969)', 'year'],
    ['cron(*/0 9 ? * MON-FRI *)', 'step'],
    ['cron(35 9 ? * MON#6 *)', '#'],
    ['cron(35  9 ? * MON-FRI *)', '6 space-separated fields'],
    ['rate(0 minutes)', 'positive'],
    ['rate(2 hour)', 'plural'],
    ['at(2026-02-30T09:35:00)', 'not a real date'],
    ['every weekday at 9:35', 'expected cron'],
  ])('rejects %s (%s)', (expression, reason) => {
    // Prepare / Act
    const problem = scheduleExpressionProblem(expression);

    // Assess
    expect(problem).toContain(reason);
  });
});

describe('weekdayCronAt', () => {
  it('turns any HH:mm into a valid weekday cron firing at that minute (property)', () => {
    // Prepare
    const times = fc.record({
      hh: fc.integer({ min: 0, max: 23 }),
      mm: fc.integer({ min: 0, max: 59 }),
    });

    // Act / Assess
    fc.assert(
      fc.property(times, ({ hh, mm }) => {
        const hhmm = `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
        const expression = weekdayCronAt(hhmm);
        expect(expression).toBe(`cron(${mm} ${hh} ? * MON-FRI *)`);
        expect(scheduleExpressionProblem(expression)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it.each(['24:00', '9:30', '10:60', 'ten'])('rejects %s naming the field', (hhmm) => {
    // Prepare / Act
    const error = validationErrorOf(() => weekdayCronAt(hhmm));

    // Assess
    expect(error.field).toBe('hhmm');
  });
});

describe('isKnownTimeZone', () => {
  it('accepts canonical IANA names and UTC, rejects aliases and typos', () => {
    // Prepare / Act / Assess
    expect(isKnownTimeZone('America/New_York')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('US/Eastern')).toBe(false);
    expect(isKnownTimeZone('America/NewYork')).toBe(false);
  });
});

describe('CDK context resolution (lib/app.ts)', () => {
  it('synthesizes all three stages unless one is selected', () => {
    // Prepare / Act
    const all = selectedStages(new App());
    const one = selectedStages(new App({ context: { stage: 'prod' } }));

    // Assess
    expect(all).toEqual(['dev', 'staging', 'prod']);
    expect(one).toEqual(['prod']);
  });

  it('rejects an unknown stage naming the "stage" context key', () => {
    // Prepare
    const app = new App({ context: { stage: 'qa' } });

    // Act
    const error = validationErrorOf(() => selectedStages(app));

    // Assess
    expect(error.field).toBe('stage');
  });

  it('applies account/region and a JSON-string override to the selected stage', () => {
    // Prepare
    const app = new App({
      context: {
        stage: 'prod',
        account: '123456789012',
        region: 'eu-west-1',
        'stagegate:prod': JSON.stringify({ alarms: { emails: ['oncall@example.com'] } }),
      },
    });

    // Act
    const config = resolveStageConfig(app, 'prod', {});

    // Assess
    expect(config.account).toBe('123456789012');
    expect(config.region).toBe('eu-west-1');
    expect(config.alarms.emails).toEqual(['oncall@example.com']);
  });

  it('refuses account context without a single stage', () => {
    // Prepare
    const app = new App({ context: { account: '123456789012' } });

    // Act
    const error = validationErrorOf(() => resolveStageConfig(app, 'dev', {}));

    // Assess
    expect(error.field).toBe('account');
  });

  it('uses CDK_DEFAULT_ACCOUNT for dev only', () => {
    // Prepare
    const app = new App();
    const env = { CDK_DEFAULT_ACCOUNT: '111122223333' };

    // Act
    const dev = resolveStageConfig(app, 'dev', env);
    const prod = resolveStageConfig(app, 'prod', env);

    // Assess
    expect(dev.account).toBe('111122223333');
    expect(prod.account).toBeUndefined();
  });

  it('names the field of an invalid override coming from context', () => {
    // Prepare
    const app = new App({
      context: { stage: 'dev', 'stagegate:dev': { schedules: { timezone: 'Mars/Olympus' } } },
    });

    // Act
    const error = validationErrorOf(() => resolveStageConfig(app, 'dev', {}));

    // Assess
    expect(error.field).toBe('schedules.timezone');
  });
});
