/**
 * cdk-nag (AwsSolutions pack) over every stage: no unacknowledged error or warning, every
 * acknowledgement carries a real reason, and none is stale (each one silences a finding
 * that actually exists).
 *
 * cdk-nag 3 reports through CDK's policy-validation plugin API rather than annotations, so
 * the pack is run directly with `validateScope` on the synthesized tree.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { MIN_REASON_LENGTH } from '../../lib/constructs/nag.js';
import { stageApproval } from '../support/stage-approval.js';
import { acknowledgements, type SynthesizedStage, synthStage } from './synth.js';

interface Finding {
  readonly rule: string;
  readonly severity: string | undefined;
  readonly path: string;
}

function findings(root: SynthesizedStage['env']): Finding[] {
  const report = new AwsSolutionsChecks().validateScope(root);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({
      rule: v.ruleName,
      severity: v.severity,
      path: r.constructPath ?? '',
    })),
  );
}

const built = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(STAGES)('cdk-nag AwsSolutions (%s)', (stage) => {
  it('reports no unacknowledged error or warning', () => {
    // Prepare
    const { env } = built[stage];

    // Act
    const open = findings(env);

    // Assess
    expect(open).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    // Prepare / Act
    const acks = acknowledgements(built[stage].env);

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.trim().length).toBeGreaterThanOrEqual(MIN_REASON_LENGTH);
    }
  });

  it('has no stale acknowledgement: each one silences a finding that exists', () => {
    // Prepare: the same stage built with acknowledgements switched off.
    const acks = acknowledgements(built[stage].env);
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
    const raw = findings(synthStage(stage).env);

    // Act
    const stale = acks.filter(
      (ack) =>
        !raw.some(
          (f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
        ),
    );

    // Assess
    expect(raw.length).toBeGreaterThan(0);
    expect(stale).toEqual([]);
  });
});

describe('cdk-nag with the alpaca-paper broker adapter', () => {
  it.each(STAGES)('%s stays clean when the order functions read the Alpaca secret', (stage) => {
    // Prepare
    const override = { broker: { adapter: 'alpaca-paper' } };

    // Act
    const open = findings(synthStage(stage, { [`stagegate:${stage}`]: override }).env);

    // Assess
    expect(open).toEqual([]);
  });
});

describe('cdk-nag with optional alarm subscribers', () => {
  it('stays clean with alarm emails and an AWS Chatbot Slack channel', () => {
    // Prepare
    const override = {
      alarms: {
        emails: ['oncall@example.com'],
        chatbotSlack: { workspaceId: 'T0123456789', channelId: 'C0123456789' },
      },
    };

    // Act
    const open = findings(synthStage('prod', { 'stagegate:prod': override }).env);

    // Assess
    expect(open).toEqual([]);
  });
});

describe('cdk-nag with the Day-3 go/no-go deployed (approvers configured)', () => {
  const day3 = (stage: Stage) => ({
    [`stagegate:${stage}`]: {
      approval: stageApproval(stage, ['slack:U024BE7LH']),
    },
  });

  it.each(STAGES)('%s has no open finding and no stale acknowledgement', (stage) => {
    // Prepare
    const acks = acknowledgements(synthStage(stage, day3(stage)).env);
    const open = findings(synthStage(stage, day3(stage)).env);
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);

    // Act
    const raw = findings(synthStage(stage, day3(stage)).env);
    const stale = acks.filter(
      (ack) =>
        !raw.some(
          (f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
        ),
    );

    // Assess
    expect(open).toEqual([]);
    expect(acks.map((a) => a.id)).toContain('AwsSolutions-APIG4');
    expect(stale).toEqual([]);
  });
});

describe('cdk-nag with the crypto stage deployed (crypto pairs and approvers configured)', () => {
  it('dev has no open finding and no stale acknowledgement', () => {
    // Prepare
    const context = {
      'stagegate:dev': {
        approval: stageApproval('dev', ['slack:U024BE7LH']),
        cohort: { cryptoSymbols: ['BTCUSD', 'ETHUSD'] },
      },
    };
    const built = synthStage('dev', context).env;
    const acks = acknowledgements(built);
    const open = findings(built);
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);

    // Act
    const raw = findings(synthStage('dev', context).env);
    const stale = acks.filter(
      (ack) =>
        !raw.some(
          (f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
        ),
    );

    // Assess: the crypto schedules' queue and invoker role are covered like the equity ones
    expect(acks.some((a) => a.path.includes('/Crypto/'))).toBe(true);
    expect(open).toEqual([]);
    expect(stale).toEqual([]);
  });
});
