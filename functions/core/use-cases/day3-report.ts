/** The run report of the three days a Day-3 review looked at (linked from the approval message). */
import type { ReportPublisher } from '../../ports/report-publisher.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { baselineSummary, describeBaselineSummary } from '../gates/baseline.js';
import type { GateResult } from '../gates/types.js';
import { type ReportDay, renderRunReport } from '../report/render.js';
import type { CohortScore } from '../scoring/score.js';
import type { CohortRecord } from './cohort-records.js';
import type { CandidateEvidence } from './day3-evidence.js';
import type { PromotionDeps } from './promotion.js';

/**
 * Renders the run report of the three reviewed days (charts, leaderboards, the candidate's
 * gate table on Day 3; with `review`: the verdict, why the candidate was chosen and its
 * baseline comparison) and publishes it; returns its (presigned) URL.
 */
export async function publishDay3Report(
  reports: ReportPublisher,
  input: {
    readonly reviewId: string;
    readonly records: readonly CohortRecord[];
    readonly simulations: readonly SimulationResult[];
    readonly artifacts: PromotionDeps['artifacts'];
    readonly gates: readonly GateResult[];
    readonly expiresInSeconds: number;
    readonly nowIso: string;
    readonly environment: string;
    /** The review's verdict and candidate: why it was chosen, its baseline comparison. */
    readonly review?: {
      readonly verdict: string;
      readonly candidate: string;
      readonly candidateBasis: string;
      readonly baselines: CandidateEvidence['baselines'];
    };
  },
): Promise<string> {
  const days: ReportDay[] = [];
  for (const [i, record] of input.records.entries()) {
    const score = (await input.artifacts.getJson(record.artifacts.scoreKey)) as CohortScore;
    days.push({
      sessionDate: record.sessionDate,
      cohortId: record.cohortId,
      simulation: input.simulations[i] as SimulationResult,
      score,
      ...(i === input.records.length - 1 ? { gates: input.gates } : {}),
    });
  }
  const html = renderRunReport({
    title: `Day-3 go/no-go ${input.reviewId}: ${input.records.map((r) => r.sessionDate).join(', ')}`,
    generatedAtIso: input.nowIso,
    environment: input.environment,
    days,
    ...(input.review ? { day3: [reviewSection(input.review)] } : {}),
  });
  return reports.publish(`reports/${input.reviewId}.html`, html, input.expiresInSeconds);
}

/** The review as the report's Day-3 section shows it (no slice yet: the approval is ahead). */
function reviewSection(r: NonNullable<Parameters<typeof publishDay3Report>[1]['review']>) {
  return {
    decision: r.verdict,
    approver: null,
    candidate: r.candidate,
    candidateBasis: r.candidateBasis,
    baseline: r.baselines
      ? describeBaselineSummary(baselineSummary(r.baselines))
      : 'not compared (the baseline gate failed closed)',
    slice: null,
    leverage: [],
    monitor: [],
  };
}
