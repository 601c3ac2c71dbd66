/**
 * zod schemas of the promotion pipeline's step events (what the ASL passes each handler).
 */
import * as z from 'zod';
import { StagedPromotionSchema } from '../../core/use-cases/promotion-records.js';
import { optionalAuditStep } from './audit-step.js';

/**
 * Strict: a step event carries no time; steps read the Clock port. `step` (the execution and
 * the state name) makes the step's own audit appends once per step (shared/audit-step.ts).
 */
export const PromotionStepEventSchema = z.strictObject({
  promotion: StagedPromotionSchema,
  step: optionalAuditStep,
});

export const PlannedLegSchema = z.object({
  leg: z.string().regex(/^[A-Za-z0-9-]{1,12}$/),
  symbol: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  qty: z.number().positive(),
  refPriceUsd: z.number().positive(),
});
