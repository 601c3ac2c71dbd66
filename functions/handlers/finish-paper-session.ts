/**
 * Step "Finish" of the paper session: the kill switch read once (a halt the ticks missed
 * recorded), the reference simulation, the parity record (paper PnL from the broker's fills vs
 * the reference, per order and in total) and the reconciliation of the session's book with the
 * broker; records `paper_session_completed`; logs an error (alarmed on) for a reconciliation
 * discrepancy. A halt this step recorded (`haltRecordedAtSettle`: the session came in with no
 * halt and leaves halted, by the kill switch read at settle or by its settle step: the kill
 * switch's flatten with shares left at the close, or its cancel failing) is counted as a tick's
 * is: the EMF metric `PaperSessionHalts` (1) and the WARN line `paper session halted` (the
 * `KillSwitchHalts` metric filter and its alarm), once per session: a session a tick already
 * halted was counted by that tick (a reason Finish extends is in its output and records, not
 * counted again), and an attempt that found the session's completion already recorded (a
 * Retry after its answer was lost, a redelivery) emits neither.
 *
 * Event: `{ promotion, state, step? }` (`step`: its records are appended once per step,
 * shared/audit-step.ts). Returns `{ parity, orders, reconciliation, halt,
 * haltRecordedAtSettle, replayed }` (`SessionSummary`).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPaperSessionDeps } from '../composition/paper-session.js';
import {
  finishPaperSession,
  type PaperSessionDeps,
  parseSessionState,
} from '../core/use-cases/paper-session.js';
import { StagedPromotionSchema } from '../core/use-cases/promotion-records.js';
import { optionalAuditStep, withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PaperSessionDeps>) {
  return makeHandler(
    'finish-paper-session',
    z.strictObject({
      promotion: StagedPromotionSchema,
      state: z.unknown(),
      step: optionalAuditStep,
    }),
    async (event) => {
      const deps = withAuditStep(await provide(), event);
      const state = parseSessionState(event.state);
      logger.appendKeys({ promotionId: state.promotionId });
      const out = await finishPaperSession(deps, { state, promotion: event.promotion });
      if (out.haltRecordedAtSettle && !out.replayed) {
        metrics.addMetric('PaperSessionHalts', MetricUnit.Count, 1);
        logger.warn('paper session halted', {
          halt: out.halt,
          session: { date: state.date, symbol: state.symbol },
          recordedAt: 'settle',
        });
      }
      metrics.addMetric(
        'ReconciliationDiscrepancies',
        MetricUnit.Count,
        out.reconciliation.clean ? 0 : 1,
      );
      if (!out.reconciliation.clean) {
        logger.error('reconciliation discrepancies', {
          promotionId: state.promotionId,
          reconciliation: out.reconciliation,
        });
      }
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPaperSessionDeps);
