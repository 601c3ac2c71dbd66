/**
 * The AWS composition of the Day-3 steps (select the candidate, record the leverage decision,
 * request the approval, conclude, the rollback monitor): the approval flow's dependencies
 * (`approval.ts`) with the promotion pipeline's and the market data on top, built lazily, once
 * per process. Kept apart from `approval.ts` so the approval page, which needs neither the
 * pipeline nor market data, bundles neither (no zip/CSV reader, no broker adapter).
 */
import type { Day3Deps } from '../core/use-cases/day3.js';
import {
  assembleDay3Deps,
  type Day3HandlerDeps,
  day3ConfigOf,
  getApprovalDeps,
  readApprovalEnv,
} from './approval.js';
import { getPromotionDeps } from './promotion.js';
import { getRuntime } from './runtime.js';

let cachedCore: Day3Deps | undefined;

/**
 * The Day-3 dependencies that need no secret (SelectCandidate, the rollback monitor):
 * promotion deps, Day-3 config, micro-live store.
 */
export function getDay3CoreDeps(): Day3Deps {
  cachedCore ??= assembleDay3Deps(
    getRuntime(),
    getPromotionDeps(),
    day3ConfigOf(readApprovalEnv(process.env)),
  );
  return cachedCore;
}

/** The Day-3 steps' dependencies (approval deps on top of {@link getDay3CoreDeps}). */
export async function getDay3Deps(): Promise<Day3HandlerDeps> {
  const env = readApprovalEnv(process.env);
  return {
    ...(await getApprovalDeps()),
    ...getDay3CoreDeps(),
    approvalBaseUrl: env.APPROVAL_BASE_URL ?? '',
  };
}
