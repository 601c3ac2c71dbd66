/**
 * The Day-3 config: defaults derived from the environment config (4-hour timeout, heartbeat a
 * minute below it, 5 % / $50 micro-live slice, the default leverage policy and rollback
 * thresholds), and refusals that name the field.
 */
import { describe, expect, it } from 'vitest';
import { ApprovalEnvSchema, day3ConfigOf } from '../../../functions/composition/approval.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../../functions/core/rollback/monitor.js';
import {
  day3ConfigFrom,
  defaultHeartbeatSeconds,
  parseDay3Config,
} from '../../../functions/core/use-cases/day3-records.js';
import { loadEnvironmentConfig } from '../../../lib/config/environments.js';
import { day3Environment } from '../../../lib/config/runtime-env.js';
import { stageApproval } from '../../support/stage-approval.js';

const valid = () =>
  day3ConfigFrom({
    approvalTimeoutHours: 4,
    microLive: { fraction: 0.05, minUsd: 50 },
    approvers: ['slack:U024BE7LH'],
  });

describe('day3ConfigFrom', () => {
  it('derives the 4-hour timeout, a heartbeat strictly below it, and the policy defaults', () => {
    // Act
    const config = valid();

    // Assess
    expect(config).toEqual({
      approvalTimeoutSeconds: 14_400,
      approvalHeartbeatSeconds: 14_340,
      microLive: { fraction: 0.05, minUsd: 50 },
      approvers: ['slack:U024BE7LH'],
      leveragePolicy: DEFAULT_LEVERAGE_POLICY,
      rollback: DEFAULT_ROLLBACK_CONFIG,
      evidenceLookbackCohorts: 120,
      demoOverride: false,
    });
  });

  it.each<[number, number]>([
    [14_400, 14_340],
    [61, 1],
    [60, 60],
    [1, 1],
  ])('defaultHeartbeatSeconds(%d) = %d', (timeout, heartbeat) => {
    expect(defaultHeartbeatSeconds(timeout)).toBe(heartbeat);
  });
});

describe('parseDay3Config refusals', () => {
  it.each<[string, (c: Record<string, unknown>) => Record<string, unknown>, RegExp]>([
    [
      'a heartbeat above the timeout',
      (c) => ({ ...c, approvalHeartbeatSeconds: 20_000 }),
      /day3\.approvalHeartbeatSeconds/,
    ],
    ['an empty approver allow-list', (c) => ({ ...c, approvers: [] }), /day3\.approvers/],
    [
      'an approver without a scheme',
      (c) => ({ ...c, approvers: ['alice'] }),
      /day3\.approvers\[0\]/,
    ],
    ['a misspelt key', (c) => ({ ...c, approvalTimeoutSecs: 1 }), /day3\./],
    [
      'a slice fraction above 1',
      (c) => ({ ...c, microLive: { fraction: 1.5, minUsd: 50 } }),
      /day3\.microLive\.fraction/,
    ],
  ])('refuses %s, naming the field', (_n, change, field) => {
    // Prepare
    const input = change({ ...valid() });

    // Act
    const parse = () => parseDay3Config(input);

    // Assess
    expect(parse).toThrow(field);
  });
});

describe('the demo override of the evidence gates', () => {
  const json = (demoOverride: boolean) =>
    JSON.stringify(
      day3ConfigFrom({
        approvalTimeoutHours: 4,
        microLive: { fraction: 0.05, minUsd: 50 },
        approvers: ['slack:U024BE7LH'],
        demoOverride,
      }),
    );

  it('is refused by the AWS composition root (only the local root composes it)', () => {
    // Prepare
    const aws = ApprovalEnvSchema.parse({ DAY3_CONFIG_JSON: json(true) });

    // Act / Assess
    expect(() => day3ConfigOf(aws)).toThrow(/only in the local mode/);
    expect(
      day3ConfigOf(ApprovalEnvSchema.parse({ DAY3_CONFIG_JSON: json(false) })).demoOverride,
    ).toBe(false);
  });
});

describe('the leverage cap and rollback limits per stage (lib/config)', () => {
  it('reach the Day-3 functions from the stage config, overrides included', () => {
    // Prepare
    const prod = loadEnvironmentConfig('prod', {
      promotion: { leveragePolicy: { maxLeverage: 4 }, rollback: { maxDrawdownFraction: 0.03 } },
      approval: stageApproval('prod', ['slack:U024BE7LH']),
    });

    // Act
    const day3 = JSON.parse(day3Environment(prod).DAY3_CONFIG_JSON);

    // Assess
    expect(day3.leveragePolicy).toEqual({ ...DEFAULT_LEVERAGE_POLICY, maxLeverage: 4 });
    expect(day3.rollback).toEqual({ ...DEFAULT_ROLLBACK_CONFIG, maxDrawdownFraction: 0.03 });
    const dev = loadEnvironmentConfig('dev', { approval: { approvers: ['slack:U024BE7LH'] } });
    expect(JSON.parse(day3Environment(dev).DAY3_CONFIG_JSON)).toMatchObject({
      leveragePolicy: DEFAULT_LEVERAGE_POLICY,
      rollback: DEFAULT_ROLLBACK_CONFIG,
    });
  });

  it('refuses a cap below the start leverage, naming the field', () => {
    // Act / Assess
    expect(() =>
      loadEnvironmentConfig('dev', { promotion: { leveragePolicy: { maxLeverage: 1 } } }),
    ).toThrow(/promotion\.leveragePolicy\.startLeverage/);
  });
});

describe('the approval chain per stage (lib/config)', () => {
  const JWT = { issuer: 'https://idp.example.com', audience: ['stagegate'] };
  const chain = [
    { role: 'operator', approvers: ['web:olivia@example.com'] },
    { role: 'risk', approvers: ['web:rick@example.com', 'slack:URISK'] },
  ];

  it('reaches the Day-3 functions: operator then risk, each step with its approvers', () => {
    // Prepare
    const prod = loadEnvironmentConfig('prod', {
      approval: {
        approvers: ['web:olivia@example.com', 'web:rick@example.com', 'slack:URISK'],
        chain,
        jwt: JWT,
      },
    });
    // Act
    const day3 = JSON.parse(day3Environment(prod).DAY3_CONFIG_JSON);
    // Assess
    expect(day3.chain).toEqual(chain);
    const dev = loadEnvironmentConfig('dev', { approval: { approvers: ['slack:U024BE7LH'] } });
    expect(JSON.parse(day3Environment(dev).DAY3_CONFIG_JSON).chain).toBeUndefined();
  });

  it.each([
    [
      'a step approver missing from approval.approvers',
      { approvers: ['web:olivia@example.com', 'web:rick@example.com'], chain },
      /approval\.chain\[1\]\.approvers: slack:URISK not on approval\.approvers/,
    ],
    [
      'a chain one person would have to sign twice',
      {
        approvers: ['web:olivia@example.com'],
        chain: [
          { role: 'operator', approvers: ['web:olivia@example.com'] },
          { role: 'risk', approvers: ['web:olivia@example.com'] },
        ],
      },
      /approval\.chain.*distinct approver/,
    ],
    [
      'a role that cannot sign',
      {
        approvers: ['web:olivia@example.com'],
        chain: [{ role: 'viewer', approvers: ['web:olivia@example.com'] }],
      },
      /approval\.chain\[0\]\.role/,
    ],
  ])('refuses %s, naming the field', (_name, approval, message) => {
    expect(() => loadEnvironmentConfig('dev', { approval })).toThrow(message);
  });
});

describe('prod requires two signatures (lib/config)', () => {
  const JWT = { issuer: 'https://idp.example.com', audience: ['stagegate'] };
  const people = ['web:olivia@example.com', 'web:rick@example.com'];

  it.each([
    ['no chain (one signature of any approver)', { approvers: people }, /no chain is set/],
    [
      'a one-step chain',
      { approvers: people, chain: [{ role: 'risk', approvers: people }] },
      /the chain has 1 step/,
    ],
  ])('refuses %s in prod, naming approval.chain', (_name, approval, detail) => {
    // Act
    let error: unknown;
    try {
      loadEnvironmentConfig('prod', { approval: { ...approval, jwt: JWT } });
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('approval.chain');
    expect(String((error as Error).message)).toMatch(/prod requires at least 2 signatures/);
    expect(String((error as Error).message)).toMatch(detail);
  });

  it('refuses a two-step chain one person would sign twice in prod', () => {
    const approval = {
      approvers: [people[0] as string],
      chain: [
        { role: 'operator', approvers: [people[0] as string] },
        { role: 'risk', approvers: [people[0] as string] },
      ],
      jwt: JWT,
    };
    expect(() => loadEnvironmentConfig('prod', { approval })).toThrow(/distinct approver/);
  });

  it('accepts two steps by distinct approvers in prod; one signature stays valid in dev and staging; prod without approvers deploys no review', () => {
    // Act
    const prod = loadEnvironmentConfig('prod', {
      approval: {
        approvers: people,
        chain: [
          { role: 'operator', approvers: [people[0] as string] },
          { role: 'risk', approvers: [people[1] as string] },
        ],
        jwt: JWT,
      },
    });
    const staging = loadEnvironmentConfig('staging', { approval: { approvers: people, jwt: JWT } });
    const dev = loadEnvironmentConfig('dev', { approval: { approvers: people } });
    const prodWithout = loadEnvironmentConfig('prod', {});

    // Assess
    expect(prod.approval.chain).toHaveLength(2);
    expect(staging.approval.chain).toBeUndefined();
    expect(dev.approval.chain).toBeUndefined();
    expect(prodWithout.approval.approvers).toEqual([]);
  });
});
