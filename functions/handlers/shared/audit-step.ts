/**
 * The `step` a Task state passes a function that appends its own audit records
 * (`{ execution_id: $$.Execution.Id, state: "<state name>" }`), and the per-invocation
 * dependencies whose audit sink appends once per step under a retry
 * (core/audit/step-scoped.ts; docs/audit.md, "Idempotent appends").
 */
import { logger } from '../../adapters/observability.js';
import { type AuditStep, auditStepSchema } from '../../core/audit/idempotency.js';
import { stepScopedAuditSink } from '../../core/audit/step-scoped.js';
import type { AuditSink, IdempotentAuditSink } from '../../ports/audit.js';

/** The optional `step` member of a step event. */
export const optionalAuditStep = auditStepSchema.optional();

function isIdempotent(sink: AuditSink): sink is IdempotentAuditSink {
  return typeof (sink as Partial<IdempotentAuditSink>).appendManyOnce === 'function';
}

/**
 * The audit sink of one invocation: with `event.step`, scoped to that step (its appends are
 * keyed by the execution, the state, the event without `step`, and their ordinal); without
 * it (a direct invocation, an older ASL), `sink` itself. A sink that cannot append
 * idempotently is used as is, with a warning.
 */
export function auditForStep(sink: AuditSink, event: { readonly step?: AuditStep }): AuditSink {
  if (!event.step) return sink;
  if (!isIdempotent(sink)) {
    logger.warn('audit sink cannot append once per step; appends stay at-least-once', {
      state: event.step.state,
    });
    return sink;
  }
  const { step, ...input } = event;
  return stepScopedAuditSink(sink, step, input);
}

/**
 * Day-3 dependencies with the promotion pipeline's audit sink (the one their use cases append
 * through) scoped to `event.step`; a top-level `audit` that is the same sink gets the same
 * scoped one (one ordinal count per invocation).
 */
export function withNestedAuditStep<
  T extends { readonly promotion: { readonly audit: AuditSink }; readonly audit?: AuditSink },
>(deps: T, event: { readonly step?: AuditStep }): T {
  if (!event.step) return deps;
  const scoped = auditForStep(deps.promotion.audit, event);
  return {
    ...deps,
    promotion: { ...deps.promotion, audit: scoped },
    ...(deps.audit === deps.promotion.audit ? { audit: scoped } : {}),
  };
}

/** `deps` with its `audit` scoped to `event.step` ({@link auditForStep}). */
export function withAuditStep<T extends { readonly audit: AuditSink }>(
  deps: T,
  event: { readonly step?: AuditStep },
): T {
  return event.step ? { ...deps, audit: auditForStep(deps.audit, event) } : deps;
}
