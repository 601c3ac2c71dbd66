/** The run report of the three days a Day-3 review looked at (linked from the approval message). */
import type { ReportPublisher } from '../../ports/report-publisher.js';
import type { SimulationResult } from '../cohort/simulate.js';
import type { GateResult } from '../gates/types.js';
import { type ReportDay, renderRunReport } from '../report/render.js';
import type { CohortScore } from '../scoring/score.js';
import type { CohortRecord } from './cohort-records.js';
import type { PromotionDeps } from './promotion.js';

/**
 * Renders the run report of the three reviewed days (charts, leaderboards, the candidate's
 * gate table on Day 3) and publishes it; returns its (presigned) URL.
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
  });
  return reports.publish(`reports/${input.reviewId}.html`, html, input.expiresInSeconds);
}
