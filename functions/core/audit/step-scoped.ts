/**
 * Once-per-step audit appends for the functions that append their own records (stage,
 * gates, reconcile, complete, the paper session, the Day-3 steps, ...).
 *
 * Step Functions retries a Task with the same input after a Lambda error or a task timeout,
 * also when the first attempt's records were committed and only its answer was lost. A
 * function's records carry what it observed (its clock reading, `resumed: true` when a retry
 * finds its own predecessor), so their content differs between attempts and cannot be their
 * key. The key of the `n`-th append of one kind on one stream by one step is instead derived
 * from what every attempt of the step shares and a loop re-entering the state does not: the
 * execution id, the state name and the step's input ({@link auditIdempotencyKey}, as the
 * `record-audit` step derives its key), plus the stream, the kinds and `n`. A retry finds
 * the key committed and gets the first attempt's records back, so a decision built on the
 * returned records is the recorded one (docs/audit.md, "Idempotent appends"). An append
 * that names its own natural key ({@link appendKeyed}: an order's intent, one transition)
 * keeps that key inside a step too, scoped by the execution ({@link stepNaturalKey}).
 */
import type { AuditSink, IdempotentAuditSink } from '../../ports/audit.js';
import { type AuditStep, auditIdempotencyKey } from './idempotency.js';
import type { AuditDraft, AuditRecord } from './record.js';
import { canonicalJson, sha256Hex } from './record.js';

/**
 * The key of the `n`-th (0-based) append of `kinds` on `stream` by the step whose own key is
 * `stepKey`: hex SHA-256 of the canonical JSON of `{ step: stepKey, stream, kinds, n }`.
 */
export function stepAppendKey(
  stepKey: string,
  stream: string,
  kinds: readonly string[],
  n: number,
): string {
  return sha256Hex(canonicalJson({ step: stepKey, stream, kinds, n }));
}

/**
 * The key, inside the execution `step.execution_id`, of an append whose caller named its own
 * idempotency key (`naturalKey`: {@link naturalAuditKey}, or a key stored with a signature):
 * hex SHA-256 of the canonical JSON of `{ execution_id, natural: naturalKey }`. Scoped by the
 * execution, not by the state or the step's input: the natural key names the event (an
 * order's intent, one order transition), which one execution records once whichever of its
 * steps, attempts or loop iterations observes it, and two executions never share a key.
 */
export function stepNaturalKey(step: AuditStep, naturalKey: string): string {
  return sha256Hex(canonicalJson({ execution_id: step.execution_id, natural: naturalKey }));
}

/**
 * An {@link IdempotentAuditSink} whose every append is committed at most once per step.
 * A plain `append`/`appendMany` is keyed with {@link stepAppendKey} (the call's ordinal among
 * this invocation's calls of the same stream and kinds). A keyed append (`appendOnce`,
 * `appendManyOnce`: what {@link appendKeyed} and {@link appendKeyedOnce} call) keeps its
 * natural key, scoped by the execution ({@link stepNaturalKey}), so it does not depend on how
 * many appends the attempt made before it: a retry that observes more or fewer events than
 * the first attempt still appends each event once. Every call goes through
 * `sink.appendManyOnce`/`appendOnce`; a replayed call returns what the earlier attempt
 * committed.
 *
 * @param step `$$.Execution.Id` and the Task state's name, as the ASL passes them.
 * @param input the step's input without `step` (what a Step Functions Retry re-sends).
 * @throws ValidationError when `input` is not representable as JSON.
 */
export function stepScopedAuditSink(
  sink: IdempotentAuditSink,
  step: AuditStep,
  input: unknown,
): IdempotentAuditSink {
  const stepKey = auditIdempotencyKey(step, input);
  const calls = new Map<string, number>();
  const keyOf = (drafts: readonly AuditDraft[]): string => {
    const stream = String((drafts[0] as { stream?: unknown }).stream);
    const kinds = drafts.map((d) => String((d as { kind?: unknown }).kind));
    const slot = canonicalJson({ stream, kinds });
    const n = calls.get(slot) ?? 0;
    calls.set(slot, n + 1);
    return stepAppendKey(stepKey, stream, kinds, n);
  };
  return {
    async append(draft: AuditDraft): Promise<AuditRecord> {
      const out = await sink.appendManyOnce([draft], keyOf([draft]));
      return out.records[0] as AuditRecord;
    },
    async appendMany(drafts: readonly AuditDraft[]): Promise<AuditRecord[]> {
      if (drafts.length === 0) return [];
      return (await sink.appendManyOnce(drafts, keyOf(drafts))).records;
    },
    appendOnce: (draft, key) => sink.appendOnce(draft, stepNaturalKey(step, key)),
    appendManyOnce: (drafts, key) => sink.appendManyOnce(drafts, stepNaturalKey(step, key)),
  };
}

/**
 * Appends `draft` once per natural idempotency key: through `sink.appendManyOnce([draft], key)`
 * when `key` is given and the sink can (a redelivery that finds the key committed gets that
 * record back and appends nothing), else a plain `append`. The key is hex SHA-256 of the
 * canonical JSON of `parts` (e.g. the Scheduler's scheduled time and the outcome). What the
 * Scheduler- and HTTP-run functions use (docs/deploy.md, "Retries and idempotency"). Inside a
 * workflow step (`sink` a {@link stepScopedAuditSink}) the key is scoped by the execution.
 *
 * @throws ValidationError, AuditWriteError as `sink.append`.
 */
export async function appendKeyed(
  sink: AuditSink,
  draft: AuditDraft,
  parts: unknown[] | null,
): Promise<AuditRecord> {
  return (await appendKeyedOnce(sink, draft, parts)).record;
}

/**
 * {@link appendKeyed}, also saying whether the key was committed already: `replayed: true`
 * when a redelivery found the key and got the earlier record back (nothing was appended now);
 * always false for a plain append (`parts` null, or a sink without `appendManyOnce`).
 *
 * @throws ValidationError, AuditWriteError as `sink.append`.
 */
export async function appendKeyedOnce(
  sink: AuditSink,
  draft: AuditDraft,
  parts: unknown[] | null,
): Promise<{ record: AuditRecord; replayed: boolean }> {
  const once = (sink as Partial<IdempotentAuditSink>).appendManyOnce;
  if (parts === null || typeof once !== 'function') {
    return { record: await sink.append(draft), replayed: false };
  }
  const out = await once.call(sink, [draft], naturalAuditKey(parts));
  return { record: out.records[0] as AuditRecord, replayed: out.replayed };
}

/**
 * Appends `drafts` (one stream) as one batch once per natural key, as {@link appendKeyed}
 * does for one draft: a redelivery that finds the key committed gets that batch back.
 *
 * @throws ValidationError, AuditWriteError as `sink.appendMany`.
 */
export async function appendManyKeyed(
  sink: AuditSink,
  drafts: readonly AuditDraft[],
  parts: unknown[] | null,
): Promise<AuditRecord[]> {
  const once = (sink as Partial<IdempotentAuditSink>).appendManyOnce;
  if (parts === null || typeof once !== 'function' || drafts.length === 0) {
    return sink.appendMany(drafts);
  }
  return (await once.call(sink, drafts, naturalAuditKey(parts))).records;
}

/** Hex SHA-256 of the canonical JSON of `parts`: a natural idempotency key ({@link appendKeyed}). */
export function naturalAuditKey(parts: unknown[]): string {
  return sha256Hex(canonicalJson({ natural: parts }));
}
