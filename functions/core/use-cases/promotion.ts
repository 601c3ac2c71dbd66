/**
 * The promotion pipeline (`statemachines/promotion-pipeline.asl.json`): the dependencies its
 * use cases share and the helpers they use. Each job has its own module:
 *
 *   StageCandidate, CheckPromotionWindow and the closing record (`promotion-stage.ts`): pick
 *     and freeze the candidate, place "now" against the promotion window, record the outcome;
 *   EvaluateGates (`promotion-gates.ts`): observe what the gates need at now and evaluate them,
 *     with the entry leg planned by `promotion-plan.ts`;
 *   orders (`promotion-orders.ts`): submit, poll and sync the promotion's orders into the
 *     position book, and Reconcile the book with the broker.
 *
 * Requests and stored records are in `promotion-records.ts`, crash recovery in
 * `promotion-recovery.ts`. Every decision is appended to the audit trail before the step returns.
 */
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { AuditSink } from '../../ports/audit.js';
import type { BrokerPort } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { KillSwitchPort } from '../../ports/kill-switch.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import type { PaperTrackRecordStore } from '../../ports/paper-track-record.js';
import type { PromotionRepository } from '../../ports/promotion-repository.js';
import type { AuditDraftOf, AuditEnvironment, AuditKind, AuditPayload } from '../audit/record.js';
import { auditDraft } from '../audit/record.js';
import type { Market } from '../calendar/market-calendar.js';
import type { GateThresholds } from '../gates/thresholds.js';
import type { PromotionConfig, StagedPromotion } from './promotion-records.js';

/** The audit actor of the promotion pipeline's records. */
export const PROMOTION_ACTOR = 'stagegate/promotion-pipeline';

/** Everything the pipeline's use cases need, built by the composition root. */
export interface PromotionDeps {
  readonly clock: Clock;
  readonly marketData: MarketDataPort;
  readonly artifacts: ArtifactStore;
  readonly cohorts: CohortRepository;
  readonly promotions: PromotionRepository;
  /** Every genome's paper session results: the incumbent's track record at staging. */
  readonly paperTrackRecord: Pick<PaperTrackRecordStore, 'list'>;
  readonly killSwitch: KillSwitchPort;
  readonly audit: AuditSink;
  /** Deployment environment written into audit records. */
  readonly environment: AuditEnvironment;
  /** The paper broker as of `nowMs` (the simulated broker fills up to that time). */
  brokerAt(nowMs: number): BrokerPort;
  /** The broker account orders go to (keys the local position book). */
  readonly brokerAccount: string;
  readonly gateThresholds: GateThresholds;
  readonly promotionConfig: PromotionConfig;
}

/** UTC ISO-8601 of epoch milliseconds. */
export const isoOf = (ms: number): string => new Date(ms).toISOString();

/** Calendar of a staged promotion (records staged before the field existed: `equity-usa`). */
export const promotionMarket = (p: Pick<StagedPromotion, 'market'>): Market =>
  p.market ?? 'equity-usa';

/** An audit record of the promotion pipeline, of `kind`, with its typed payload. */
export function promotionDraft<K extends AuditKind>(
  deps: Pick<PromotionDeps, 'environment'>,
  kind: K,
  stream: string,
  subject: Record<string, string | undefined>,
  payload: AuditPayload<K>,
): AuditDraftOf<K> {
  return auditDraft(kind, {
    actor: PROMOTION_ACTOR,
    stream,
    environment: deps.environment,
    subject,
    payload,
  });
}

/** The audit stream of one promotion. */
export const promotionStream = (promotionId: string): string => `promotion:${promotionId}`;

/** The kill switch as the gates see it: `unknown` when it cannot be read (fails closed). */
export async function killSwitchState(
  deps: Pick<PromotionDeps, 'killSwitch'>,
): Promise<'on' | 'off' | 'unknown'> {
  try {
    const state = await deps.killSwitch.read();
    return state?.engaged ? 'on' : 'off';
  } catch {
    return 'unknown';
  }
}
