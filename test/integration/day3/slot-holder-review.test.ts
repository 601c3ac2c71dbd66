/**
 * The Day-3 go/no-go reviews the genome holding the paper slot (`chooseCandidate`,
 * day3-select.ts) on the real local stack (three real daily cohorts, 2013-10-07/08/09): its
 * cohort record plus its paper sessions, out of sample with their parity; a demoted holder
 * leaves it to the walk-forward ranking. Its own stack: the slot's history must hold only
 * this test's promotions (day3-go-no-go.test.ts seeds another holder for the approval path).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPaperSessionDeps } from '../../../functions/composition/paper-session.js';
import { buildPromotionDeps } from '../../../functions/composition/promotion.js';
import type { AgentRow } from '../../../functions/core/use-cases/cohort-records.js';
import { runDay3 } from '../../../local/day3.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { auditRecords, paperSession, runThreeCohorts, slotPromotion } from './support.js';

let stack: LocalStack;
let cohortIds: string[];

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  cohortIds = await runThreeCohorts(stack, 'it-d3-holder');
});

afterAll(async () => {
  await stack?.stop();
});

describe('Day-3 go/no-go: the paper slot holder is the reviewed genome', () => {
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
