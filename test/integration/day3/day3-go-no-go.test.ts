/**
 * The Day-3 go/no-go (statemachines/day3-go-no-go.asl.json) on the real local stack: three
 * real daily cohorts (2013-10-07/08/09), then the Day-3 execution with the local approval
 * server, in the three unattended modes the CLI offers: auto-approve (micro-live slice on the
 * simulated paper broker, the approver recorded), reject, and timeout (not approved,
 * recorded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaperSessionDeps } from '../../../functions/composition/paper-session.js';
import { buildPromotionDeps } from '../../../functions/composition/promotion.js';
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import type { AgentRow } from '../../../functions/core/use-cases/cohort-records.js';
import type { StagedPromotion } from '../../../functions/core/use-cases/promotion-records.js';
import { localApprover, runDay3 } from '../../../local/day3.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { auditRecords, runThreeCohorts } from './support.js';

let stack: LocalStack;
let cohortIds: string[];

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortIds = await runThreeCohorts(stack, 'it-day3');
});

afterAll(async () => {
  await stack?.stop();
});

/** A pipeline-picked promotion of `row`'s genome (no approval), as the paper slot reads it. */
function slotPromotion(
  row: AgentRow,
  input: { id: string; cohortId: string; sessionDate: string; stagedAtIso: string },
  status: StagedPromotion['status'],
): StagedPromotion {
  return {
    promotionId: input.id,
    cohortId: input.cohortId,
    sessionDate: input.sessionDate,
    agentId: row.agentId,
    agentRank: row.rank,
    genome: {
      id: row.genomeId,
      family: row.family,
      symbol: row.symbol,
      generation: 0,
      parentIds: [],
      params: {},
    },
    configHash: '0'.repeat(64),
    bankrollUsd: 1000,
    capitalSliceUsd: 100,
    metrics: {
      totalPnlUsd: 0,
      sharpe: 0,
      maxDrawdownFraction: 0,
      parentMaxDrawdownFraction: 0,
      tradeCount: 4,
    },
    broker: 'simulated:local-paper',
    approvalId: null,
    status,
    statusReason: `test: ${status}`,
    stagedAtIso: input.stagedAtIso,
  };
}

/** One paper session of `row`'s genome at parity on `date` (a return of `dailyReturn`). */
function paperSession(row: AgentRow, date: string, dailyReturn: number): PaperSessionResult {
  return {
    genomeId: row.genomeId,
    promotionId: `pr-holder-${date}`,
    date,
    symbol: row.symbol,
    family: row.family,
    broker: 'simulated:local-paper',
    capitalUsd: 100,
    paperPnlUsd: dailyReturn * 100,
    referencePnlUsd: dailyReturn * 100,
    parityDifferenceUsd: 0,
    parity: 'exact',
    dailyReturn,
    filledOrders: 4,
    roundTrips: 2,
    cohortPnlUsd: dailyReturn * 100,
    halt: null,
    reconciliationClean: true,
    recordedAtIso: `${date}T20:05:00.000Z`,
  };
}

describe('Day-3 go/no-go on the local stack', () => {
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
    const approvedAgent = selection?.candidate.days[2]?.agentId;
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

  it('without the demo override, three sessions are insufficient evidence: no approval is requested', async () => {
    // Act
    const out = await runDay3(stack, {
      cohortIds,
      approval: 'auto',
      demoOverride: false,
      write: () => undefined,
    });

    // Assess: the order-time gates may pass, the evidence gates cannot on <= 3 sessions
    expect(out.status).toBe('SUCCEEDED');
    expect(out.decision).toBe('insufficient_evidence');
    expect(out.conclusion).toMatchObject({ outcome: 'insufficient_evidence' });
    expect(out.path).toContain('GatesFailed');
    expect(out.path).not.toContain('RequestApproval');
    expect(out.selection?.evidence.n).toBeLessThanOrEqual(3);
    expect(out.selection?.evidence.trials).toBeGreaterThanOrEqual(30);
    const evidenceGates = out.selection?.gates.results.filter((g) =>
      ['psr', 'dsr'].includes(g.gate),
    );
    expect(evidenceGates?.map((g) => [g.gate, g.verdict])).toEqual([
      ['psr', 'fail'],
      ['dsr', 'fail'],
    ]);
    expect(evidenceGates?.[0]?.reason).toMatch(/^insufficient evidence: \d sessions < 20 required/);
    // Assess: no genome holds the paper slot, so the walk-forward ranking picked the candidate
    expect(out.selection?.candidateBasis).toMatchObject({
      basis: 'walk_forward_ranking',
      reason: 'walk-forward ranking: no genome holds the equity-usa paper slot',
      holder: null,
    });
    expect(out.selection?.candidate.lineageId).toBe(out.selection?.ranking[0]?.lineageId);
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
    const cmp = out.selection?.evidence.baselines;
    const baselineGate = out.selection?.gates.results.find((g) => g.gate === 'baseline');
    expect(cmp?.sessionDates).toEqual(out.selection?.evidence.outOfSample.sessionDates);
    expect(cmp?.sessionDates.length).toBeGreaterThan(0);
    expect(cmp?.baselines.map((b) => [b.baseline, b.symbol])).toEqual([
      ['flat', null],
      ['buy_and_hold', cmp?.symbol],
    ]);
    const best = Math.max(...(cmp?.baselines.map((b) => b.meanReturn ?? Number.NaN) ?? []));
    expect(baselineGate).toMatchObject({
      observed: cmp?.candidateMeanReturn,
      threshold: best,
      verdict: (cmp?.candidateMeanReturn ?? Number.NaN) > best ? 'pass' : 'fail',
    });
    // Assess: the gate records and the conclusion are in the audit trail
    const review = `promotion:${out.selection?.reviewId}`;
    const records = (await auditRecords(stack)).filter((r) => r.stream === review);
    expect(records.filter((r) => r.kind === 'gate_evaluated').map((r) => r.payload.gate)).toEqual(
      expect.arrayContaining(['psr', 'dsr', 'oos', 'baseline']),
    );
    expect(records.find((r) => r.kind === 'promotion_completed')?.payload).toMatchObject({
      verdict: 'insufficient_evidence',
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
  it('a genome holding the paper slot is the one reviewed: its cohort record plus its paper sessions, out of sample with their parity; a demoted holder leaves it to the ranking', async () => {
    // Prepare: the slot holder is a Day-1 and Day-2 genome that is NOT the ranking's pick,
    // staged from the Day-1 cohort (2013-10-08) and kept (2013-10-09), with two paper sessions
    const deps = buildPromotionDeps(stack.runtime);
    const [d1, d2] = [
      await deps.cohorts.get(cohortIds[0] ?? ''),
      await deps.cohorts.get(cohortIds[1] ?? ''),
    ];
    const ranked = await runDay3(stack, {
      cohortIds,
      approval: 'reject',
      demoOverride: false,
      write: () => undefined,
    });
    const pick = ranked.selection?.ranking[0]?.lineageId;
    const row = d2.leaderboard.find(
      (r) => r.genomeId !== pick && d1.leaderboard.some((x) => x.genomeId === r.genomeId),
    ) as AgentRow;
    expect(row).toBeDefined();
    const first = {
      id: 'pr-slot-first',
      cohortId: d1.cohortId,
      sessionDate: d1.sessionDate,
      stagedAtIso: '2013-10-08T14:00:00.000Z',
    };
    const kept = {
      id: 'pr-slot-kept',
      cohortId: d2.cohortId,
      sessionDate: d2.sessionDate,
      stagedAtIso: '2013-10-09T14:00:00.000Z',
    };
    await deps.promotions.stage(slotPromotion(row, first, 'promoted'));
    await deps.promotions.stage(slotPromotion(row, kept, 'promoted'));
    const store = buildPaperSessionDeps(stack.runtime, deps).trackRecord;
    await store.append(paperSession(row, '2013-10-08', 0.004));
    await store.append(paperSession(row, '2013-10-09', 0.006));

    // Act
    const out = await runDay3(stack, {
      cohortIds,
      approval: 'reject',
      demoOverride: false,
      write: () => undefined,
    });

    // Assess: the holder is reviewed, and the selection says why
    const s = out.selection;
    expect(s?.candidate).toMatchObject({ lineageId: row.genomeId, rank: 0 });
    expect(s?.candidateBasis).toMatchObject({
      basis: 'paper_slot_holder',
      paperSessions: 2,
      holder: { promotionId: 'pr-slot-kept', genomeId: row.genomeId, status: 'promoted' },
    });
    expect(s?.candidateBasis.reason).toMatch(
      new RegExp(
        `^paper-slot holder, 2 paper sessions: ${row.genomeId} holds the equity-usa paper slot .*not the walk-forward ranking's pick ${pick}$`,
      ),
    );
    // Assess: walk-forward from the cohort its first promotion looked at; the paper sessions
    // replace the simulated ones of their dates and are out of sample, at parity
    expect(s?.evidence.selectionCutoffDate).toBe(d1.sessionDate);
    expect(
      s?.evidence.sessions.map((x) => [x.sessionDate, x.source ?? 'cohort', x.sample]),
    ).toEqual([
      ['2013-10-07', 'cohort', 'in_sample'],
      ['2013-10-08', 'paper', 'out_of_sample'],
      ['2013-10-09', 'paper', 'out_of_sample'],
    ]);
    expect(s?.evidence.outOfSample.meanReturn).toBeCloseTo(0.005, 12);
    expect(s?.evidence.paper).toMatchObject({ sessions: 2, paritySessions: 2, counted: 2 });
    expect(s?.metrics).toMatchObject({ paperSessions: 2, paperParitySessions: 2 });
    // The gates judge its latest reviewed session: its own agent in its latest cohort
    const last = s?.candidate.days.at(-1);
    expect(last?.genomeId).toBe(row.genomeId);
    expect(s?.cohortIds).toContain(last?.cohortId);
    // Assess: the approval page's metrics and the published Day-3 report show the baseline
    // comparison (the candidate's out-of-sample mean beside the best baseline's, both n)
    expect(s?.metrics.baseline).toMatchObject({ candidateSessions: 2, bestSessions: 2 });
    expect(s?.metrics.baseline?.candidateMeanReturn).toBeCloseTo(0.005, 12);
    const html = await (await fetch(s?.reportUrl ?? '')).text();
    expect(html).toContain(`Chosen as the paper-slot holder, 2 paper sessions: ${row.genomeId}`);
    expect(html).toMatch(
      /Baseline comparison: candidate 0\.5% per session \(n=2\) vs best baseline (flat|buy_and_hold \w+) -?[\d.]+% per session \(n=2\)/,
    );
    // Assess: the review's gate records carry the reason
    const review = `promotion:${s?.reviewId}`;
    const gateRecords = (await auditRecords(stack)).filter(
      (r) => r.stream === review && r.kind === 'gate_evaluated' && r.payload.gate === 'psr',
    );
    expect(gateRecords[0]?.payload.candidate_basis).toMatchObject({
      basis: 'paper_slot_holder',
      paperSessions: 2,
    });

    // Act: the holder is demoted (its newest decisive promotion halted)
    await deps.promotions.stage(
      slotPromotion(
        row,
        { ...kept, id: 'pr-slot-halted', stagedAtIso: '2013-10-09T15:00:00.000Z' },
        'halted',
      ),
    );
    const after = await runDay3(stack, {
      cohortIds,
      approval: 'reject',
      demoOverride: false,
      write: () => undefined,
    });

    // Assess
    expect(after.selection?.candidate.lineageId).toBe(pick);
    expect(after.selection?.candidateBasis.basis).toBe('walk_forward_ranking');
    expect(after.selection?.candidateBasis.reason).toMatch(
      new RegExp(
        `^walk-forward ranking: the equity-usa paper slot's last holder ${row.genomeId} was demoted \\(halted`,
      ),
    );
  });
});
