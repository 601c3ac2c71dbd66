/**
 * The Day-3 go/no-go state machine (`statemachines/day3-go-no-go.asl.json`): the
 * dependencies its use cases share and the helpers they use. Each step has its own module:
 *
 *   SelectCandidate (`day3-select.ts`): rank the genomes that traded on Day 3 and earlier,
 *     walk-forward (on their own sessions before Day 3; Day 3 held out; `day3-ranking.ts`),
 *     run the promotion gates and the evidence gates (PSR, DSR, out of sample) on the best one,
 *     and publish the run report (`day3-report.ts`);
 *   RequestApproval (`day3-request-approval.ts`, `.waitForTaskToken`): store the approval
 *     request with the task token (encrypted, server-side), announce the signed link;
 *   StartMicroLive (`day3-micro-live.ts`): on approval, the slice's first leverage decision and
 *     its record; the promotion pipeline then runs with the slice;
 *   Conclude (`day3-conclude.ts`): the outcome (slice active or not, not approved, gates failed).
 *
 * The lineage's equity curve and minute-return variance come from `day3-curves.ts`.
 * Every decision is appended to the audit trail before the step returns.
 */
import type { ApprovalAnnouncer } from '../../ports/approval-announcer.js';
import type { ApprovalStore } from '../../ports/approval-store.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { MicroLiveRepository } from '../../ports/micro-live.js';
import type { PaperTrackRecordStore } from '../../ports/paper-track-record.js';
import type { ReportPublisher } from '../../ports/report-publisher.js';
import type { ApprovalKey } from '../approval/links.js';
import type { AuditDraftOf, AuditKind, AuditPayload } from '../audit/record.js';
import { auditDraft } from '../audit/record.js';
import type { Day3Config } from './day3-records.js';
import type { PromotionDeps } from './promotion.js';

/** The audit actor of the Day-3 workflow's own records. */
export const DAY3_ACTOR = 'stagegate/day3-go-no-go';

/** Everything the Day-3 use cases need, built by the composition root. */
export interface Day3Deps {
  /** The promotion pipeline's dependencies (gates, broker, repositories, audit, clock). */
  readonly promotion: PromotionDeps;
  /**
   * The genome pool's generations: lineage is followed through the generations bred between
   * the three cohorts (learning cycles run between them, so a Day-2 genome's parents may
   * never have traded in a cohort).
   */
  readonly genomePool?: GenomePoolRepository;
  /** Publishes the run report of the three days (linked from the approval message). */
  readonly reports?: ReportPublisher;
  readonly config: Day3Config;
  readonly microLive: MicroLiveRepository;
  /**
   * The paper track record (every paper session's result per genome): the candidate's paper
   * sessions count in its evidence (`day3-evidence.ts#withPaperSessions`); absent: none read.
   */
  readonly paperTrackRecord?: Pick<PaperTrackRecordStore, 'list'>;
}

/** What requesting an approval additionally needs. */
export interface Day3ApprovalDeps extends Day3Deps {
  readonly approvals: ApprovalStore;
  /** The approval key (links, CSRF, token cipher, approval ids). */
  readonly key: ApprovalKey;
  readonly announcer: ApprovalAnnouncer;
  /** Origin (+ path prefix) of the approval page, e.g. the HTTP API's URL. */
  readonly approvalBaseUrl: string;
}

/** The audit stream of one Day-3 execution. */
export const streamOfExecution = (executionName: string) => `execution:${executionName}`;
/** The last `n` id-safe characters of an execution name (`x` when none). */
export const tailOf = (executionName: string, n: number) =>
  executionName.replace(/[^A-Za-z0-9-]/g, '').slice(-n) || 'x';

/** An audit draft of a Day-3 step, actor `stagegate/day3-go-no-go` unless given. */
export function day3Draft<K extends AuditKind>(
  deps: Pick<Day3Deps, 'promotion'>,
  kind: K,
  stream: string,
  subject: Record<string, string | null | undefined>,
  payload: AuditPayload<K>,
  actor = DAY3_ACTOR,
): AuditDraftOf<K> {
  return auditDraft(kind, {
    actor,
    stream,
    environment: deps.promotion.environment,
    subject,
    payload,
  });
}
