/**
 * The Day-3 go/no-go (statemachines/day3-go-no-go.asl.json) on the real local stack: three
 * real daily cohorts (2013-10-07/08/09), then the Day-3 execution with the local approval
 * server. First the shared week as it is: its candidate lost out of sample, which fails the
 * review (`gates_failed`) even under the demo override. Then with a fixture
 * (`seedOutOfSampleWinner`: the ranking's pick holds the paper slot with paper sessions that
 * beat the baselines, so its evidence is short only on PSR/DSR): the three unattended modes
 * the CLI offers: auto-approve (micro-live slice on the simulated paper broker, the approver
 * recorded), reject, and timeout (not approved, recorded), and no override.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPromotionDeps } from '../../../functions/composition/promotion.js';
import { localApprover, runDay3 } from '../../../local/day3.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import {
  auditRecords,
  runThreeCohorts,
  type SeededWinner,
  seedOutOfSampleWinner,
} from './support.js';

let stack: LocalStack;
let cohortIds: string[];

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortIds = await runThreeCohorts(stack, 'it-day3');
});

afterAll(async () => {
  await stack?.stop();
});

describe('Day-3 go/no-go on the local stack', () => {
  it('the shared week as it is: its candidate lost out of sample, so the review fails (gates_failed) and the demo override does not apply', async () => {
    // Act: the demo override on (the local default), auto-approve
    let printed = '';
    const out = await runDay3(stack, {
      cohortIds,
      approval: 'auto',
      write: (t) => {
        printed += t;
      },
    });

    // Assess: the premise: a measured out-of-sample loss on the real sessions
    const s = out.selection;
    const oos = s?.gates.results.find((g) => g.gate === 'oos');
    expect(s?.evidence.outOfSample.n).toBeGreaterThanOrEqual(1);
    expect(oos).toMatchObject({ verdict: 'fail' });
    expect(Number(oos?.observed)).toBeLessThanOrEqual(0);
    // Assess: evidence against the candidate fails the review; nothing is overridden
    expect(
      s?.gates.results
        .filter((g) => !['psr', 'dsr', 'oos', 'baseline'].includes(g.gate))
        .every((g) => g.verdict === 'pass'),
    ).toBe(true);
    expect(s?.verdict).toBe('gates_failed');
    expect(s?.proceed).toBe(false);
    expect(s?.demoOverride).toBeNull();
    expect(s?.evidenceAgainst.map((a) => a.split(':')[0])).toEqual(
      expect.arrayContaining(['oos', 'baseline']),
    );
    expect(out.status).toBe('SUCCEEDED');
    expect(out.decision).toBe('gates_failed');
    expect(out.conclusion).toMatchObject({ outcome: 'gates_failed' });
    expect(out.conclusion?.reason).toContain('which no override looks past');
    expect(out.path).toContain('GatesFailed');
    expect(out.path).not.toContain('RequestApproval');
    expect(out.slice).toBeNull();
    expect(printed).not.toContain('DEMO OVERRIDE');
    expect(printed).toContain('evidence against the candidate (no override looks past it): oos:');
    // No micro-live slice follows, so none is said to be replayed
    expect(printed).toContain(`Day-3 go/no-go over ${cohortIds.join(', ')}\n`);
    expect(printed).not.toContain('micro-live replayed');
    // Assess: no genome holds the paper slot, so the walk-forward ranking picked the candidate
    expect(s?.candidateBasis).toMatchObject({
      basis: 'walk_forward_ranking',
      reason: 'walk-forward ranking: no genome holds the equity-usa paper slot',
      holder: null,
    });
    expect(s?.candidate.lineageId).toBe(s?.ranking[0]?.lineageId);
    // Assess: every cohort carries its baselines; the candidate is held to them out of sample
    const cohorts = buildPromotionDeps(stack.runtime).cohorts;
    for (const id of cohortIds) {
      const rec = await cohorts.get(id);
      expect(rec.baselines?.map((b) => [b.baseline, b.symbol])).toEqual([
        ['flat', null],
        ['buy_and_hold', 'SPY'],
        ['buy_and_hold', 'BAC'],
        ['buy_and_hold', 'AIG'],
        ['buy_and_hold', 'IBM'],
      ]);
      expect(rec.baselines?.[0]?.sessionReturn).toBe(0);
      expect(rec.leaderboard.some((r) => ['flat', 'buy_and_hold'].includes(r.family))).toBe(false);
    }
    const cmp = s?.evidence.baselines;
    const baselineGate = s?.gates.results.find((g) => g.gate === 'baseline');
    expect(cmp?.sessionDates).toEqual(s?.evidence.outOfSample.sessionDates);
    expect(cmp?.sessionDates.length).toBeGreaterThan(0);
    expect(cmp?.baselines.map((b) => [b.baseline, b.symbol])).toEqual([
      ['flat', null],
      ['buy_and_hold', cmp?.symbol],
    ]);
    const best = Math.max(...(cmp?.baselines.map((b) => b.meanReturn ?? Number.NaN) ?? []));
    expect(baselineGate).toMatchObject({
      observed: cmp?.candidateMeanReturn,
      threshold: best,
      verdict: 'fail',
    });
    // Assess: the gate records and the conclusion are in the audit trail
    const review = `promotion:${s?.reviewId}`;
    const records = (await auditRecords(stack)).filter((r) => r.stream === review);
    expect(records.filter((r) => r.kind === 'gate_evaluated').map((r) => r.payload.gate)).toEqual(
      expect.arrayContaining(['psr', 'dsr', 'oos', 'baseline']),
    );
    expect(records.find((r) => r.kind === 'promotion_completed')?.payload).toMatchObject({
      outcome: 'gates_failed',
      verdict: 'gates_failed',
      evidence_against: expect.arrayContaining([expect.stringMatching(/^oos: /)]),
    });
  });

  describe('with a candidate that beats the baselines out of sample (fixture: seedOutOfSampleWinner)', () => {
    let winner: SeededWinner;

    beforeAll(async () => {
      winner = await seedOutOfSampleWinner(stack, cohortIds);
    });

    it('--approval auto: approves as the labelled CLI identity and starts the micro-live slice on the paper broker', async () => {
      // Prepare
      let printed = '';

      // Act
      const out = await runDay3(stack, {
        cohortIds,
        approval: 'auto',
        write: (t) => {
          printed += t;
        },
        monitorEveryMinutes: 120,
      });

      // Assess: the decision and who made it
      expect(out.status).toBe('SUCCEEDED');
      expect(out.decision).toBe('approved');
      expect(out.approver).toBe(localApprover('cli-auto'));
      expect(printed).toContain('AUTO-APPROVE');
      expect(printed).toContain('Slack payload it would send');
      expect(printed).toContain(out.approvalUrl ?? 'no link');
      // Assess: the micro-live slice runs the approved agent with the configured slice
      const selection = out.selection;
      expect(selection?.candidate.lineageId).toBe(winner.genomeId);
      expect(selection?.verdict).toBe('insufficient_evidence');
      expect(selection?.demoOverride?.label).toMatch(
        /^DEMO OVERRIDE \(local mode only\): insufficient evidence \(PSR .*, DSR .*\)/,
      );
      expect(printed).toContain('DEMO OVERRIDE (local mode only)');
      const approvedAgent = selection?.candidate.days.at(-1)?.agentId;
      expect(selection?.capitalSliceUsd).toBe(50);
      expect(out.conclusion?.outcome).toBe('micro_live_started');
      expect(out.promotion?.outcome).toBe('promoted');
      const staged = await buildPromotionDeps(stack.runtime).promotions.get(
        out.promotion?.promotionId ?? '?',
      );
      expect(staged).toMatchObject({
        agentId: approvedAgent,
        capitalSliceUsd: 50,
        approvalId: out.approvalId,
      });
      // The slice trades its own signals through the paper session (no default entry): every
      // order is the strategy's or the close flatten, terminal, and the parity is to the cent.
      expect(out.paper).not.toBeNull();
      expect(out.orders).toHaveLength(out.paper?.orders.length ?? -1);
      expect(out.paper?.orders.every((o) => ['signal', 'flatten', 'risk'].includes(o.reason))).toBe(
        true,
      );
      expect(out.orders.every((o) => ['filled', 'canceled', 'expired'].includes(o.status))).toBe(
        true,
      );
      expect(Math.round((out.paper?.parity.differenceUsd ?? Number.NaN) * 100)).toBe(0);
      expect(out.paper?.reconciliation.clean).toBe(true);
      expect(printed).toMatch(/parity \S+: paper .*, simulator .*, difference \$0\.00/);
      expect(printed).toMatch(
        /Micro-live promotion \(the promotion pipeline, nested; micro-live replayed from \d{4}-\d\d-\d\dT[\d:.]+Z\):/,
      );
      expect(out.slice).toMatchObject({
        approvedBy: localApprover('cli-auto'),
        agentId: approvedAgent,
      });
      expect(['active', 'rolled_back']).toContain(out.slice?.status);
      // Assess: the leverage policy's decisions, each with its rationale
      expect(out.leverage[0]).toMatchObject({ key: 'initial', next: 2, rule: 'initial' });
      expect(out.leverage.every((l) => l.rationale.length > 20)).toBe(true);
      // The slice's paper session ran to the close and flattened: no position is left for the
      // rollback monitor to watch after it (its breakers acted inside the session).
      expect(out.slice?.entry).toBeNull();
      expect(out.monitorTicks).toEqual([]);
      // Assess: the audit trail holds the request, the approver's decision and the leverage
      const stream = `execution:${out.executionArn.split(':').pop()}`;
      const records = (await auditRecords(stack)).filter((r) => r.stream === stream);
      expect(records.map((r) => r.kind)).toEqual([
        'approval_requested',
        'approval_decided',
        'config_changed',
      ]);
      expect(records[1]).toMatchObject({
        actor: localApprover('cli-auto'),
        payload: { decision: 'approved' },
      });
      expect(records[2]?.payload).toMatchObject({
        setting: 'micro_live.leverage',
        next: 2,
        rule: 'initial',
      });
    });

    it('without the demo override, a short record is insufficient evidence: no approval is requested', async () => {
      // Act
      const out = await runDay3(stack, {
        cohortIds,
        approval: 'auto',
        demoOverride: false,
        write: () => undefined,
      });

      // Assess: the order-time gates, oos and baseline pass; PSR and DSR cannot on <= 3 sessions
      expect(out.status).toBe('SUCCEEDED');
      expect(out.decision).toBe('insufficient_evidence');
      expect(out.conclusion).toMatchObject({ outcome: 'insufficient_evidence' });
      expect(out.path).toContain('GatesFailed');
      expect(out.path).not.toContain('RequestApproval');
      const s = out.selection;
      expect(s?.candidate.lineageId).toBe(winner.genomeId);
      expect(s?.candidateBasis.basis).toBe('paper_slot_holder');
      expect(s?.evidence.n).toBeLessThanOrEqual(3);
      expect(s?.evidence.trials).toBeGreaterThanOrEqual(30);
      expect(s?.evidenceAgainst).toEqual([]);
      expect(s?.demoOverride).toBeNull();
      const evidenceGates = s?.gates.results.filter((g) =>
        ['psr', 'dsr', 'oos', 'baseline'].includes(g.gate),
      );
      expect(evidenceGates?.map((g) => [g.gate, g.verdict])).toEqual([
        ['psr', 'fail'],
        ['dsr', 'fail'],
        ['oos', 'pass'],
        ['baseline', 'pass'],
      ]);
      expect(evidenceGates?.[0]?.reason).toMatch(
        /^insufficient evidence: \d sessions < 20 required/,
      );
      expect(s?.evidence.outOfSample.sessionDates).toEqual(winner.paper.map((x) => x.date));
      const review = `promotion:${s?.reviewId}`;
      const records = (await auditRecords(stack)).filter((r) => r.stream === review);
      expect(records.find((r) => r.kind === 'promotion_completed')?.payload).toMatchObject({
        verdict: 'insufficient_evidence',
        evidence_against: [],
      });
    });

    it('--approval reject: ends as not approved, no slice, the rejection recorded with its approver', async () => {
      // Act
      const out = await runDay3(stack, { cohortIds, approval: 'reject', write: () => undefined });

      // Assess
      expect(out.status).toBe('SUCCEEDED');
      expect(out.decision).toBe('rejected');
      expect(out.conclusion).toMatchObject({ outcome: 'not_approved', decision: 'rejected' });
      expect(out.approver).toBe(localApprover('cli-auto'));
      expect(out.path).toContain('Rejected');
      expect(out.path).not.toContain('RunMicroLive');
      expect(out.slice).toBeNull();
      const stream = `execution:${out.executionArn.split(':').pop()}`;
      const decided = (await auditRecords(stack)).filter(
        (r) => r.stream === stream && r.kind === 'approval_decided',
      );
      expect(decided).toEqual([
        expect.objectContaining({
          actor: localApprover('cli-auto'),
          payload: expect.objectContaining({ decision: 'rejected' }),
        }),
      ]);
    });

    it('timeout: nobody decides, the execution ends as not approved and the expiry is recorded', async () => {
      // Act
      const out = await runDay3(stack, {
        cohortIds,
        approval: 'manual',
        timeoutSeconds: 1,
        write: () => undefined,
      });

      // Assess
      expect(out.status).toBe('SUCCEEDED');
      expect(out.decision).toBe('timed_out');
      expect(out.conclusion).toMatchObject({
        outcome: 'not_approved',
        decision: 'expired',
        decidedBy: null,
      });
      expect(out.path).toEqual(
        expect.arrayContaining(['RequestApproval', 'TimedOut', 'NotApproved']),
      );
      expect(out.path).not.toContain('StartMicroLive');
      const stream = `execution:${out.executionArn.split(':').pop()}`;
      const decided = (await auditRecords(stack)).filter(
        (r) => r.stream === stream && r.kind === 'approval_decided',
      );
      expect(decided).toEqual([
        expect.objectContaining({
          actor: 'stagegate/day3-go-no-go',
          payload: expect.objectContaining({ decision: 'expired', outcome: 'not_approved' }),
        }),
      ]);
    });
  });
});
