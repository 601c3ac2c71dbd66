/**
 * Audit records: the versioned storage contract, canonical JSON and the per-stream hash chain.
 *
 * A caller hands the sink a **draft** (`kind`, `actor`, `stream`, `environment`, `subject`,
 * `payload` object). The sink reads the stream head and calls {@link chainRecord}, which
 * assigns `seq` and `prev_hash`, turns the payload into a canonical JSON string and computes
 * `hash` = hex SHA-256 over the canonical JSON of the record without `hash`.
 *
 * Storage contract (docs/audit.md, mirrored by the Glue tables): one record per JSON line,
 * snake_case top-level fields, `subject` always carries all six id fields (null when absent),
 * `payload` is a STRING holding canonical JSON so Athena and DuckDB store it uniformly.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ValidationError } from '../errors.js';

/** Version of the stored record layout; bump (and add a schema) on any breaking change. */
export const AUDIT_SCHEMA_VERSION = 1 as const;

/** Every kind of audited decision or event. */
export const AUDIT_KINDS = [
  'cohort_scored',
  'gate_evaluated',
  'promotion_staged',
  'paper_slot_decided',
  'approval_requested',
  'approval_decided',
  'approval_reconciled',
  'order_intent',
  'order_submitted',
  'order_status_changed',
  'reconciliation',
  'rollback',
  'kill_switch_changed',
  'learning_cycle',
  'input_rejected',
  'workflow_failed',
  'promotion_completed',
  'schedule_skipped',
  'config_changed',
  'position_restated',
  'chat_command',
  'plan_event',
  'paper_decision',
  'paper_session_completed',
  'operator_command',
  'session_ingested',
  'report_posted',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** Deployment environments a record can belong to (`local` = the local runtime). */
export const AUDIT_ENVIRONMENTS = ['dev', 'staging', 'prod', 'local'] as const;
export type AuditEnvironment = (typeof AUDIT_ENVIRONMENTS)[number];

/** The id fields of `subject`, always present in a stored record (null when absent). */
export const SUBJECT_FIELDS = [
  'cohort_id',
  'agent_id',
  'genome_id',
  'promotion_id',
  'order_id',
  'execution_id',
] as const;
export type SubjectField = (typeof SUBJECT_FIELDS)[number];

/** `prev_hash` of the record at seq 0: 64 zeros. */
export const ZERO_HASH = '0'.repeat(64);

/** Largest canonical payload accepted, in UTF-8 bytes (the stream head item stores the record). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Deepest nesting accepted in a payload. */
const MAX_PAYLOAD_DEPTH = 32;

// ---------------------------------------------------------------------------------------------
// Canonical JSON
// ---------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function writeCanonical(value: unknown, path: string, depth: number, out: string[]): void {
  if (depth > MAX_PAYLOAD_DEPTH) {
    throw new ValidationError(path, `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ValidationError(path, `number ${String(value)} is not representable in JSON`);
      }
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw new ValidationError(path, `${typeof value} is not a JSON value`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i += 1) {
      if (i > 0) out.push(',');
      const item: unknown = value[i];
      if (item === undefined) throw new ValidationError(`${path}[${i}]`, 'undefined in array');
      writeCanonical(item, `${path}[${i}]`, depth + 1, out);
    }
    out.push(']');
    return;
  }
  if (!isPlainObject(value)) {
    throw new ValidationError(path, 'only plain objects, arrays and JSON scalars are allowed');
  }
  // Default sort compares UTF-16 code units, which is exactly the order RFC 8785 prescribes.
  const keys = Object.keys(value).sort();
  out.push('{');
  let first = true;
  for (const key of keys) {
    const item = value[key];
    if (item === undefined) continue; // like JSON.stringify: an undefined member is absent
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    writeCanonical(item, `${path}.${key}`, depth + 1, out);
  }
  out.push('}');
}

/**
 * Canonical JSON of a JSON value: object keys sorted by UTF-16 code units (at every level),
 * no whitespace, strings and numbers printed exactly as `JSON.stringify` prints them (shortest
 * round-trip form, `-0` as `0`). Object members whose value is `undefined` are omitted.
 *
 * Reference: RFC 8785 (JSON Canonicalization Scheme). Output is identical to JCS for every
 * value this accepts; the one difference is that lone UTF-16 surrogates in strings are escaped
 * (`"\udc00"`) as ES2019 `JSON.stringify` does, where JCS rejects them.
 *
 * @throws ValidationError (field = JSONPath-like location) for values JSON cannot represent:
 *   NaN/Infinity, bigint, functions, symbols, `undefined` inside arrays, class instances
 *   (Date, Map, Buffer...), or nesting deeper than 32 levels.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  writeCanonical(value, '$', 0, out);
  return out.join('');
}

/** Hex SHA-256 of the UTF-8 bytes of `text` (node:crypto). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const HEX64 = /^[0-9a-f]{64}$/;
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `ts`: UTC ISO-8601 with milliseconds, as `Date.prototype.toISOString` prints it. */
export const auditTsSchema = z
  .string()
  .regex(ISO_MS_UTC, 'must be UTC ISO-8601 like 2024-01-02T14:30:00.000Z')
  .refine((s) => {
    const ms = Date.parse(s);
    return Number.isFinite(ms) && new Date(ms).toISOString() === s;
  }, 'is not a real instant');

/**
 * `actor`: a system component `area/component` (e.g. `stagegate/score-cohort`) or a human or
 * external identity `scheme:id` (e.g. `slack:U123`, `cli:alice@example.com`).
 */
export const auditActorSchema = z
  .string()
  .max(200)
  .regex(
    /^(?:[a-z][a-z0-9-]*\/[a-z0-9][a-z0-9._-]*|[a-z][a-z0-9-]*:[A-Za-z0-9._@+-]+)$/,
    'must be `area/component` or `scheme:identity`',
  );

/** `stream`: hash-chain stream id `type:id`, e.g. `execution:abc`, `cohort:2024-01-02-a`. */
export const auditStreamSchema = z
  .string()
  .max(200)
  .regex(/^[a-z][a-z0-9-]*:[A-Za-z0-9._:@/+-]+$/, 'must be `type:id` (e.g. `cohort:c-1`)');

const subjectIdSchema = z.string().min(1).max(200);

/** Subject ids a caller may pass (all optional). */
export const auditDraftSubjectSchema = z.strictObject({
  cohort_id: subjectIdSchema.nullish(),
  agent_id: subjectIdSchema.nullish(),
  genome_id: subjectIdSchema.nullish(),
  promotion_id: subjectIdSchema.nullish(),
  order_id: subjectIdSchema.nullish(),
  execution_id: subjectIdSchema.nullish(),
});

/** Subject as stored: every field present, null when absent (a stable Glue struct). */
export const auditSubjectSchema = z.strictObject({
  cohort_id: subjectIdSchema.nullable(),
  agent_id: subjectIdSchema.nullable(),
  genome_id: subjectIdSchema.nullable(),
  promotion_id: subjectIdSchema.nullable(),
  order_id: subjectIdSchema.nullable(),
  execution_id: subjectIdSchema.nullable(),
});
export type AuditSubject = z.infer<typeof auditSubjectSchema>;

/** A JSON object (plain object of JSON values) whose canonical form is <= MAX_PAYLOAD_BYTES. */
const payloadObjectSchema = z.custom<Record<string, unknown>>(isPlainObject, {
  message: 'payload must be a JSON object',
});

function checkPayloadJson(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
  try {
    const text = canonicalJson(value);
    if (Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES) {
      ctx.addIssue({ code: 'custom', message: `larger than ${MAX_PAYLOAD_BYTES} bytes` });
    }
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
}

const scalarOrNull = z.union([z.number(), z.string(), z.boolean(), z.null()]);

const isoDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
const clientOrderIdSchema = z.string().min(1).max(48);
const sideSchema = z.enum(['buy', 'sell']);

/**
 * One payload schema per audit kind. Each pins the fields its writers always set and the
 * named queries read; they are loose (extra fields are kept in the record), so a writer may add
 * context. Building a draft of a kind type-checks its payload against this schema
 * ({@link AuditDraftOf}); the sink checks it again at run time.
 */
export const AUDIT_PAYLOAD_SCHEMAS = {
  /** A cohort finished and was scored. `bankroll` in USD. */
  cohort_scored: z.looseObject({
    session_date: isoDateSchema,
    agent_count: z.number().int().nonnegative(),
    bankroll: z.number().nonnegative(),
  }),
  /**
   * One gate's verdict with its observed value, threshold and reason. `not_judged`: too little
   * to judge yet (does not block; `GATE_VERDICTS`, gates/types.ts).
   */
  gate_evaluated: z.looseObject({
    gate: z.string().min(1),
    verdict: z.enum(['pass', 'fail', 'not_judged']),
    observed: scalarOrNull,
    threshold: scalarOrNull,
    reason: z.string(),
  }),
  /** A candidate was staged for promotion: its config hash and capital slice (USD). */
  promotion_staged: z.looseObject({
    config_hash: z.string().min(1),
    capital_slice_usd: z.number().nonnegative(),
    broker: z.string().min(1),
  }),
  /**
   * Who trades the paper slot this session (`paper/paper-slot.ts`): keep the incumbent,
   * promote or retire, replace; with the figures the decision rests on and its reason.
   */
  paper_slot_decided: z.looseObject({
    decision: z.enum([
      'promote_challenger',
      'keep_incumbent',
      'replace_incumbent',
      'retire_incumbent',
    ]),
    reason: z.string().min(1),
    staged_genome_id: z.string().min(1),
  }),
  /** A human approval was requested for a reviewed candidate. */
  approval_requested: z.looseObject({
    approval_id: z.string().min(1),
    review_id: z.string().min(1),
  }),
  /** A human (or the timeout) decided an approval request. The approver is the `actor`. */
  approval_decided: z.looseObject({
    decision: z.enum(['approved', 'rejected', 'expired']),
    reason: z.string().nullish(),
  }),
  /**
   * A redelivered decision whose re-sent resume Step Functions refused, checked against the
   * execution (DescribeExecution, functions/core/approval/workflow-finding.ts): `decision` is
   * the signer's, `finding` what the workflow did (`running`, `concluded` with
   * `workflow_decision`, or `unconfirmed` when its state could not be read).
   */
  approval_reconciled: z.looseObject({
    approval_id: z.string().min(1),
    decision: z.enum(['approved', 'rejected']),
    finding: z.enum(['running', 'concluded', 'unconfirmed']),
    execution_status: z.string().nullable(),
    workflow_decision: z.enum(['approved', 'rejected', 'expired']).nullable(),
    message: z.string().min(1),
  }),
  /**
   * An order is about to be sent to the (paper) broker: appended BEFORE the broker call, so a
   * crash between the two leaves the intent in the trail (functions/core/orders/order-intent.ts).
   */
  order_intent: z.looseObject({
    client_order_id: clientOrderIdSchema,
    symbol: z.string().min(1),
    side: sideSchema,
    qty: z.number().positive(),
  }),
  /** An order was sent to the (paper) broker. `qty` in shares. */
  order_submitted: z.looseObject({
    client_order_id: clientOrderIdSchema,
    symbol: z.string().min(1),
    side: sideSchema,
    qty: z.number().positive(),
  }),
  /** The broker reported a new order status. `filled_qty` cumulative shares. */
  order_status_changed: z.looseObject({
    client_order_id: clientOrderIdSchema,
    status: z.string().min(1),
    filled_qty: z.number().nonnegative(),
    filled_avg_price: z.number().nonnegative().nullish(),
  }),
  /** Local positions compared with the broker's; `clean` when they agree. */
  reconciliation: z.looseObject({
    clean: z.boolean(),
    discrepancies: z.array(z.unknown()),
    broker: z.string().min(1),
  }),
  /** A position was halted/flattened or trading stopped; `reason` says why. */
  rollback: z.looseObject({
    reason: z.string(),
  }),
  /** The kill switch was engaged (true) or released (false). */
  kill_switch_changed: z.looseObject({
    engaged: z.boolean(),
    reason: z.string(),
    scope: z.string().optional(),
  }),
  /** One learning-cycle step (the pool before/after, or why nothing changed). */
  learning_cycle: z.looseObject({}),
  /** An event/CLI/config input failed validation and was not acted on. */
  input_rejected: z.looseObject({
    source: z.string().min(1),
    field: z.string(),
    message: z.string(),
  }),
  /** A workflow failed for a reason other than its input (after retries); same fields. */
  workflow_failed: z.looseObject({
    source: z.string().min(1),
    field: z.string(),
    message: z.string(),
  }),
  /** A promotion ended: promoted, or not (gates failed, window expired, halted). */
  promotion_completed: z.looseObject({
    outcome: z.enum(['promoted', 'gates_failed', 'window_expired', 'halted', 'failed']),
    reason: z.string(),
  }),
  /**
   * A session's bars were ingested: the symbols stored (the cohort's universe that day), the
   * ones excluded with their reasons, and the per-symbol data-quality counts.
   */
  session_ingested: z.looseObject({
    session_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    market: z.enum(['equity-usa', 'crypto']),
    included: z.array(z.string()),
    excluded: z.array(z.looseObject({ symbol: z.string(), reasons: z.array(z.string()) })),
    quality: z.array(z.looseObject({ symbol: z.string(), status: z.enum(['ok', 'excluded']) })),
  }),
  /** A scheduled run did nothing, on purpose (market closed, nothing to promote). */
  schedule_skipped: z.looseObject({
    schedule: z.string().min(1),
    reason: z.string(),
  }),
  /**
   * An operator command accepted from the console, Slack or the CLI (`cohort start`, ...):
   * the channel it came through, the command, its validated arguments and what it started.
   * The operator is the `actor`; a refused command is an `input_rejected` record instead.
   */
  operator_command: z.looseObject({
    channel: z.string().min(1),
    command: z.string().min(1),
  }),
  /** A setting changed (e.g. `micro_live.leverage`), from `previous` to `next`, and why. */
  config_changed: z.looseObject({
    setting: z.string().min(1),
    previous: z.unknown(),
    next: z.unknown(),
  }),
  /** A held position was restated (e.g. a split): shares and cost before and after. */
  position_restated: z.looseObject({
    account: z.string().min(1),
    symbol: z.string().min(1),
    reason: z.string().min(1),
  }),
  /** A chat (Slack slash) command was run or refused: the command and its outcome. */
  chat_command: z.looseObject({
    command: z.string(),
    outcome: z.string().min(1),
  }),
  /** A scheduled report (`daily`) was posted, skipped or failed to post, and why. */
  report_posted: z.looseObject({
    report: z.string().min(1),
    outcome: z.enum(['posted', 'skipped', 'failed']),
  }),
  /** A change to a plan (any JSON object; no writer pins fields yet). */
  plan_event: z.looseObject({}),
  /** One paper-session decision (`session_started`, a tick's action), with its reason. */
  paper_decision: z.looseObject({
    action: z.string().min(1),
  }),
  /** A paper session ended: its PnL beside the reference simulation's (USD). */
  paper_session_completed: z.looseObject({
    paper_pnl_usd: z.number(),
    reference_pnl_usd: z.number(),
  }),
} as const satisfies Record<AuditKind, z.ZodType<Record<string, unknown>>>;

/** The payload a draft of kind `K` carries (what its writer passes). */
export type AuditPayload<K extends AuditKind> = z.input<(typeof AUDIT_PAYLOAD_SCHEMAS)[K]>;

/**
 * What callers pass to `AuditSink.append`. `payload` is a JSON object (checked against the
 * per-kind schema when one exists); `subject` ids are optional.
 */
export const auditDraftSchema = z
  .strictObject({
    kind: z.enum(AUDIT_KINDS),
    actor: auditActorSchema,
    stream: auditStreamSchema,
    environment: z.enum(AUDIT_ENVIRONMENTS),
    subject: auditDraftSubjectSchema.optional(),
    payload: payloadObjectSchema.superRefine(checkPayloadJson),
  })
  .superRefine((draft, ctx) => {
    const schema: z.ZodType = AUDIT_PAYLOAD_SCHEMAS[draft.kind];
    const result = schema.safeParse(draft.payload);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload', ...issue.path],
        message: `${draft.kind}: ${issue.message}`,
      });
    }
  });
/** The draft fields every kind shares (as callers write them). */
type AuditDraftFields = Omit<z.input<typeof auditDraftSchema>, 'kind' | 'payload'>;

/** A draft of kind `K`: its payload is type-checked against that kind's schema. */
export type AuditDraftOf<K extends AuditKind> = AuditDraftFields & {
  readonly kind: K;
  readonly payload: AuditPayload<K>;
};

/** Draft as callers write it: one member per kind, discriminated by `kind`. */
export type AuditDraft = { [K in AuditKind]: AuditDraftOf<K> }[AuditKind];
/** A draft without `environment` (the writer's deployment adds it), one member per kind. */
export type AuditDraftWithoutEnvironment = {
  [K in AuditKind]: Omit<AuditDraftOf<K>, 'environment'>;
}[AuditKind];
/** Draft after validation (what {@link parseAuditDraft} returns). */
export type ParsedAuditDraft = z.output<typeof auditDraftSchema>;

/**
 * Builds a draft of kind `kind`; the payload type-checks against that kind's schema (the one
 * builder the use cases share instead of each writing its own).
 */
export function auditDraft<K extends AuditKind>(
  kind: K,
  fields: AuditDraftFields & { readonly payload: AuditPayload<K> },
): AuditDraftOf<K> {
  return { ...fields, kind };
}

function checkPayloadString(text: string, ctx: z.RefinementCtx): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'payload is not JSON' });
    return;
  }
  if (!isPlainObject(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'payload is not a JSON object' });
    return;
  }
  if (canonicalJson(parsed) !== text) {
    ctx.addIssue({ code: 'custom', message: 'payload is not canonical JSON' });
  }
}

/** Stored record, schema_version 1. Unknown fields are rejected (they would escape the hash). */
export const auditRecordV1Schema = z.strictObject({
  schema_version: z.literal(1),
  id: z.string().regex(ULID, 'must be a ULID'),
  ts: auditTsSchema,
  environment: z.enum(AUDIT_ENVIRONMENTS),
  kind: z.enum(AUDIT_KINDS),
  actor: auditActorSchema,
  stream: auditStreamSchema,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  subject: auditSubjectSchema,
  payload: z.string().superRefine(checkPayloadString),
  prev_hash: z.string().regex(HEX64, 'must be 64 lowercase hex digits'),
  hash: z.string().regex(HEX64, 'must be 64 lowercase hex digits'),
});

/** Every stored layout, discriminated by `schema_version` (only v1 today). */
export const auditRecordSchema = z.discriminatedUnion('schema_version', [auditRecordV1Schema]);
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** The last record of a stream as far as chaining needs it. */
export interface StreamHead {
  /** seq of the last record in the stream (0-based). */
  readonly seq: number;
  /** hash of that record. */
  readonly hash: string;
}

/**
 * The {@link ValidationError} for a failed audit parse: `field` is the first offending path
 * (`audit.payload.verdict`), the message lists every issue, `cause` is the ZodError.
 */
export function toValidationError(error: z.ZodError): ValidationError {
  const { field, message } = formatIssues(error);
  return new ValidationError(field, message, { cause: error });
}

function formatIssues(error: z.ZodError): { field: string; message: string } {
  const first = error.issues[0];
  const field = ['audit', ...(first?.path ?? []).map(String)].join('.');
  const message = error.issues
    .map((i) => `${['audit', ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
  return { field, message };
}

/**
 * Validates a draft.
 *
 * @returns the parsed draft (subject normalised, payload checked).
 * @throws ValidationError (field = first offending path, e.g. `audit.payload.verdict`) when
 *   the draft breaks {@link auditDraftSchema}; `cause` holds the ZodError.
 */
export function parseAuditDraft(draft: unknown): ParsedAuditDraft {
  const result = auditDraftSchema.safeParse(draft);
  if (!result.success) throw toValidationError(result.error);
  return result.data;
}

/**
 * Validates a stored record against the schema its `schema_version` names.
 *
 * @throws ValidationError when the value is not a valid stored record.
 */
export function parseAuditRecord(value: unknown): AuditRecord {
  const result = auditRecordSchema.safeParse(value);
  if (!result.success) throw toValidationError(result.error);
  return result.data;
}

/**
 * Hex SHA-256 over the canonical JSON of a record without its `hash` field (a `hash` present
 * on the argument is ignored, so a stored record can be passed as is to re-check it).
 *
 * @throws ValidationError if the record holds a value JSON cannot represent.
 */
export function hashRecord(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return sha256Hex(canonicalJson(rest));
}

/**
 * The reserved payload member `provenance` (docs/audit.md#provenance): what a record rests on.
 * The sink sets `code_version` on every record; a decision sets `config_hash` and `data_hash`
 * ({@link decisionProvenance}), so a change of thresholds or inputs between two decisions shows
 * in the trail.
 */
export const provenanceSchema = z.looseObject({
  /** The build that wrote the record (git commit or build id, baked at build time). */
  code_version: z.string().min(1).max(100).optional(),
  /** Hex SHA-256 of the canonical JSON of the configuration the decision used. */
  config_hash: z.string().regex(HEX64).optional(),
  /** Hex SHA-256 of the canonical JSON of the input data the decision used. */
  data_hash: z.string().regex(HEX64).optional(),
});
export type Provenance = z.infer<typeof provenanceSchema>;

/**
 * Stable hex SHA-256 of a JSON-like value (the hash {@link decisionProvenance} uses for config
 * and data): canonical JSON, non-finite numbers hash as their names (`"NaN"`).
 */
export function valueHash(value: unknown): string {
  const plain = JSON.parse(
    JSON.stringify(value ?? null, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    ),
  ) as unknown;
  return sha256Hex(canonicalJson(plain));
}

/**
 * `{ config_hash, data_hash }` of a decision: hex SHA-256 of the canonical JSON (RFC 8785, see
 * {@link canonicalJson}) of the configuration and of the input data it used. Members whose
 * value is `undefined` are left out, NaN/Infinity hash as the strings `"NaN"`/`"Infinity"`.
 */
export function decisionProvenance(
  config: unknown,
  data: unknown,
): Required<Pick<Provenance, 'config_hash' | 'data_hash'>> {
  return { config_hash: valueHash(config), data_hash: valueHash(data) };
}

function withCodeVersion(
  payload: Record<string, unknown>,
  codeVersion: string | undefined,
): Record<string, unknown> {
  const given = payload.provenance;
  if (given !== undefined) {
    const parsed = provenanceSchema.safeParse(given);
    if (!parsed.success) throw toValidationError(parsed.error);
  }
  if (codeVersion === undefined) return payload;
  return {
    ...payload,
    provenance: { ...(given as Provenance | undefined), code_version: codeVersion },
  };
}

/**
 * Builds the next record of a stream from a draft.
 *
 * @param draft what the caller passed (validated here).
 * @param head the stream's current head, or null for a new stream (then seq 0, prev_hash = 64
 *   zeros).
 * @param id ULID for the record.
 * @param ts UTC ISO-8601 time of the record (from the injected Clock).
 * @param codeVersion the writer's build (functions/config/code-version.ts), stored as
 *   `payload.provenance.code_version`; absent: not stamped.
 * @returns the complete stored record, `hash` computed.
 * @throws ValidationError when the draft, id or ts are invalid, or `payload.provenance` is not
 *   a {@link provenanceSchema} object.
 */
export function chainRecord(
  draft: AuditDraft | ParsedAuditDraft,
  head: StreamHead | null,
  id: string,
  ts: string,
  codeVersion?: string,
): AuditRecord {
  const parsed = parseAuditDraft(draft);
  const subject = Object.fromEntries(
    SUBJECT_FIELDS.map((f) => [f, parsed.subject?.[f] ?? null]),
  ) as AuditSubject;
  const withoutHash = {
    schema_version: AUDIT_SCHEMA_VERSION,
    id,
    ts,
    environment: parsed.environment,
    kind: parsed.kind,
    actor: parsed.actor,
    stream: parsed.stream,
    seq: head === null ? 0 : head.seq + 1,
    subject,
    payload: canonicalJson(withCodeVersion(parsed.payload, codeVersion)),
    prev_hash: head === null ? ZERO_HASH : head.hash,
  };
  return parseAuditRecord({ ...withoutHash, hash: hashRecord(withoutHash) });
}

/** The stored form of a record: its canonical JSON plus a newline (one JSON-lines line). */
export function serializeAuditRecord(record: AuditRecord): string {
  return `${canonicalJson(record)}\n`;
}

/** UTC ISO-8601 with milliseconds for an epoch-ms instant (what `ts` holds). */
export function toAuditTs(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
