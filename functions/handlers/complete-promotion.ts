/**
 * Steps "RecordPromoted", "GatesFailed", "WindowExpired", "Halted": ends the promotion with
 * its outcome and a reason built from the step's detail, and records `promotion_completed`.
 *
 * Event: `{ promotion, outcome, detail, step? }` (`step`: `promotion_completed` is appended once
 * per step under a retry, shared/audit-step.ts). Returns `{ promotionId, outcome, reason }`.
 */
import * as z from 'zod';
import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { StagedPromotionSchema } from '../core/use-cases/promotion-records.js';
import { completePromotion } from '../core/use-cases/promotion-stage.js';
import { causeMessage } from '../core/use-cases/record-failure.js';
import { optionalAuditStep, withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  promotion: StagedPromotionSchema,
  outcome: z.enum(['promoted', 'gates_failed', 'window_expired', 'halted']),
  detail: z.record(z.string(), z.unknown()),
  step: optionalAuditStep,
});

type Detail = Record<string, unknown>;

function reasonFor(outcome: z.infer<typeof EventSchema>['outcome'], d: Detail): string {
  switch (outcome) {
    case 'promoted': {
      const rec = d.reconciliation as { clean?: boolean; discrepancies?: unknown[] } | undefined;
      const recText = `reconciliation ${rec?.clean ? 'clean' : `found ${rec?.discrepancies?.length ?? '?'} discrepancies`}`;
      const session = (d.session as Detail | undefined)?.output as Detail | undefined;
      if (session) {
        const orders = (session.orders as Detail[] | undefined) ?? [];
        const parity = session.parity as Record<string, number> | undefined;
        const diff = parity?.differenceUsd ?? Number.NaN;
        return `paper session: ${orders.length} order(s), paper PnL ${parity?.paperPnlUsd?.toFixed(2)} USD, parity difference ${diff.toFixed(2)} USD; ${recText}`;
      }
      const orders = ((d.orders as Detail | undefined)?.orders as Detail[] | undefined) ?? [];
      const states = orders.map((o) => `${o.clientOrderId} ${o.status}`).join(', ') || 'no orders';
      return `${orders.length} order(s): ${states}; ${recText}`;
    }
    case 'gates_failed': {
      const results = (d.results as Detail[] | undefined) ?? [];
      const failed = results
        .filter((r) => r.verdict === 'fail')
        .map((r) => `${r.gate} (observed ${r.observed}, threshold ${r.threshold} ${r.unit})`);
      return `failed gates: ${failed.join('; ')}`;
    }
    case 'window_expired':
      return `promotion window closed at ${d.closesAtIso} before submission (now ${d.nowIso})`;
    case 'halted':
      return (
        causeMessage(typeof d.Cause === 'string' ? d.Cause : undefined) || 'kill switch engaged'
      );
  }
}

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler('complete-promotion', EventSchema, async (event) =>
    completePromotion(withAuditStep(await provide(), event), {
      promotion: event.promotion,
      outcome: event.outcome,
      reason: reasonFor(event.outcome, event.detail),
    }),
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
