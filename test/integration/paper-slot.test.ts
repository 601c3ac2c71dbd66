/**
 * The paper slot through the real local promotion pipeline (`statemachines/promotion-pipeline
 * .asl.json` on aws-local-stepfunctions, DynamoDB Local, s3rver): the candidate StageCandidate
 * stages is the winner of the incumbent/challenger decision (`decidePaperSlot`), read from the
 * incumbent's paper track record, and the decision is an audit record with its inputs.
 *
 * Three cohorts of the same genome pool (2013-10-04, -07, -08 on the shared minutes) give the
 * challenger (the 2013-10-08 cohort's best candidate) three sessions of evidence. The slot's
 * holder is a promoted genome of that pool that is NOT the challenger, with a paper track record
 * of three sessions written through the real store: above the challenger's mean by more than the
 * margin (it keeps the slot: the pipeline stages the incumbent), then, for another holder,
 * below it by more than the margin (the challenger replaces it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaperSessionDeps } from '../../functions/composition/paper-session.js';
import { buildPromotionDeps } from '../../functions/composition/promotion.js';
import type { PaperSessionResult } from '../../functions/core/paper/track-record.js';
import type { AgentRow, CohortRecord } from '../../functions/core/use-cases/cohort-records.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { readAuditObjects } from '../support/audit.js';
import { DATA_ROOT } from '../support/paths.js';
import { stagedPromotionOf } from '../support/staged-promotion.js';

let stack: LocalStack;
const cohorts: CohortRecord[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  for (const sessionDate of ['2013-10-04', '2013-10-07', '2013-10-08']) {
    const run = await stack.intradayCohort.execute(
      {
        source: 'test',
        sessionDate,
        symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
        bankrollUsd: 1000,
        agentCount: 12,
        allocation: 'equal',
        seed: 3,
      },
      { executionName: `it-slot-cohort-${sessionDate}` },
    );
    expect(run.status).toBe('SUCCEEDED');
    const { cohortId } = run.output as { cohortId: string };
    cohorts.push(await stack.runtime.cohorts.get(cohortId));
  }
});

afterAll(async () => {
  await stack?.stop();
});

/** The pipeline's own pick of the cohort (the challenger): best profitable with enough trades. */
function challengerOf(cohort: CohortRecord, minTrades: number): AgentRow {
  const row =
    cohort.leaderboard.find((r) => r.tradeCount >= minTrades && r.totalPnlUsd > 0) ??
    cohort.leaderboard.find((r) => r.tradeCount >= minTrades);
  if (!row) throw new Error('no candidate with enough trades in the test cohort');
  return row;
}

/** The genome's daily return (PnL / allocation) in each cohort it ran in. */
function dailyReturnsOf(genomeId: string): number[] {
  return cohorts.flatMap((c) => {
    const row = c.leaderboard
      .filter((r) => r.genomeId === genomeId)
      .sort((a, b) => a.rank - b.rank)[0];
    return row ? [row.totalPnlUsd / row.allocationUsd] : [];
  });
}

/** Stores a promoted holder of the slot (staged at `stagedAtIso`) and 3 paper sessions. */
async function seedHolder(row: AgentRow, stagedAtIso: string, dailyReturn: number) {
  const deps = buildPromotionDeps(stack.runtime);
  const promotionId = `pr-holder-${row.genomeId}`;
  const holder = stagedPromotionOf(
    {
      promotionId,
      cohortId: cohorts[1]?.cohortId ?? '',
      sessionDate: '2013-10-07',
      agentId: row.agentId,
      agentRank: row.rank,
      genome: { id: row.genomeId, family: row.family, symbol: row.symbol },
      stagedAtIso,
      status: 'promoted',
    },
    { statusReason: 'test: the slot holder' },
  );
  await deps.promotions.stage(holder);
  const store = buildPaperSessionDeps(stack.runtime, deps).trackRecord;
  for (const date of ['2013-10-02', '2013-10-03', '2013-10-04']) {
    const result: PaperSessionResult = {
      genomeId: row.genomeId,
      promotionId: `${promotionId}-${date}`,
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
      // Cohort PnL equal to paper PnL: no measured flattery, the comparison is the means alone.
      cohortPnlUsd: dailyReturn * 100,
      halt: null,
      reconciliationClean: true,
      recordedAtIso: `${date}T20:05:00.000Z`,
    };
    await store.append(result);
  }
}

/** Runs the pipeline on the 2013-10-08 cohort after today's window closed (stages, expires). */
async function stageAt(iso: string, name: string) {
  stack.clock.set(Date.parse(iso));
  const result = await stack.promotionPipeline.execute(
    { source: 'test', cohortId: cohorts[2]?.cohortId },
    { executionName: name },
  );
  expect(result.status).toBe('SUCCEEDED');
  expect(result.output).toMatchObject({ outcome: 'window_expired' });
  const { promotionId } = result.output as { promotionId: string };
  const staged = await buildPromotionDeps(stack.runtime).promotions.get(promotionId);
  const records = (await readAuditObjects(stack.servers.s3Endpoint)).filter(
    (r) => r.stream === `promotion:${promotionId}` && r.kind === 'paper_slot_decided',
  );
  expect(records).toHaveLength(1);
  return { staged, slot: JSON.parse(String(records[0]?.payload)) as Record<string, unknown> };
}

/** Another genome of the last cohort than the challenger (a different agent and genome). */
function otherThan(challenger: AgentRow, skip: readonly string[] = []): AgentRow {
  const row = cohorts[2]?.leaderboard.find(
    (r) => r.genomeId !== challenger.genomeId && !skip.includes(r.genomeId),
  );
  if (!row) throw new Error('the test cohort has a single genome');
  return row;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('the paper slot at StageCandidate (real local pipeline)', () => {
  it('an incumbent whose paper record beats the challenger keeps the slot: the incumbent is staged, not the best candidate', async () => {
    // Prepare
    const min = buildPromotionDeps(stack.runtime).gateThresholds.minTradeCount;
    const challenger = challengerOf(cohorts[2] as CohortRecord, min);
    const challengerReturns = dailyReturnsOf(challenger.genomeId);
    expect(challengerReturns).toHaveLength(3);
    const incumbent = otherThan(challenger);
    await seedHolder(incumbent, '2013-10-08T14:00:00.000Z', mean(challengerReturns) + 0.005);

    // Act
    const { staged, slot } = await stageAt('2013-10-09T19:45:00.000Z', 'it-slot-keep');

    // Assess
    expect(staged.genome.id).toBe(incumbent.genomeId);
    expect(staged.agentId).toBe(incumbent.agentId);
    expect(staged.agentId).not.toBe(challenger.agentId);
    expect(slot).toMatchObject({
      decision: 'keep_incumbent',
      staged_genome_id: incumbent.genomeId,
      holder: { promotion_id: `pr-holder-${incumbent.genomeId}`, status: 'promoted' },
      incumbent: { genome_id: incumbent.genomeId, paper_sessions: 3 },
      challenger: { agent_id: challenger.agentId, genome_id: challenger.genomeId },
    });
    expect(slot.reason).toMatch(new RegExp(`${incumbent.genomeId} keeps the slot`));
    expect(slot.challenger_mean_return as number).toBeCloseTo(mean(challengerReturns), 12);
    expect(slot.incumbent_mean_return as number).toBeCloseTo(mean(challengerReturns) + 0.005, 12);
  });

  it('a challenger whose evidence beats the incumbent by more than the margin replaces it: the challenger is staged', async () => {
    // Prepare: a newer holder (staged the session after the first one) with a weaker record
    const min = buildPromotionDeps(stack.runtime).gateThresholds.minTradeCount;
    const challenger = challengerOf(cohorts[2] as CohortRecord, min);
    const challengerReturns = dailyReturnsOf(challenger.genomeId);
    const first = otherThan(challenger);
    const incumbent = otherThan(challenger, [first.genomeId]);
    await seedHolder(incumbent, '2013-10-09T14:00:00.000Z', mean(challengerReturns) - 0.005);

    // Act
    const { staged, slot } = await stageAt('2013-10-10T19:45:00.000Z', 'it-slot-replace');

    // Assess
    expect(staged.genome.id).toBe(challenger.genomeId);
    expect(staged.agentId).toBe(challenger.agentId);
    expect(slot).toMatchObject({
      decision: 'replace_incumbent',
      staged_genome_id: challenger.genomeId,
      holder: { promotion_id: `pr-holder-${incumbent.genomeId}`, status: 'promoted' },
      incumbent: { genome_id: incumbent.genomeId, paper_sessions: 3 },
    });
    expect(slot.reason).toMatch(
      new RegExp(`${challenger.genomeId} replaces ${incumbent.genomeId}`),
    );
  });
});
