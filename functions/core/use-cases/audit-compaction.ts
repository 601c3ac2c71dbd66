/**
 * Audit verification and day anchoring, the one implementation behind the local
 * `audit verify` / `audit compact` and the AWS daily compaction's verify step
 * (docs/audit.md#compaction, #completeness).
 *
 * The compaction picks the UTC day, reads that day's records, re-verifies their hash chains
 * and (with an {@link AuditAnchorStore}) their completeness against the neighbouring day
 * manifests, the stream heads and the anchor; then it writes the day's manifest and moves the
 * anchor to it. Only a day that verifies is anchored and may be compacted to Parquet, so
 * compaction never launders a tampered or truncated day.
 */
import * as z from 'zod';
import type { AuditAnchorStore, AuditReader } from '../../ports/audit.js';
import type { AuditAnchor, AuditDayManifest } from '../audit/manifest.js';
import {
  buildDayManifest,
  checkDayEdges,
  checkManifestsAgainstRecords,
  verifyManifestChain,
} from '../audit/manifest.js';
import type { AuditEnvironment, AuditRecord } from '../audit/record.js';
import { auditRecordSchema } from '../audit/record.js';
import type { VerifyInput, VerifyResult } from '../audit/verify.js';
import { verifyChains, withBreaks } from '../audit/verify.js';
import { AuditChainBrokenError, parseOrThrow } from '../errors.js';

const DAY_MS = 86_400_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function isCalendarDay(d: string): boolean {
  if (!DATE_RE.test(d)) return false;
  const at = Date.parse(`${d}T00:00:00.000Z`);
  return Number.isFinite(at) && new Date(at).toISOString().slice(0, 10) === d;
}

/** A real calendar day `YYYY-MM-DD` (UTC). */
export const CompactionDateSchema = z
  .string()
  .regex(DATE_RE, 'must be YYYY-MM-DD')
  .refine((d) => isCalendarDay(d), {
    message: 'must be a calendar date',
  });

/**
 * What starts a compaction: the schedule (`scheduledTime`, UTC ISO-8601, compacts the day
 * before) or an operator (`date`, the day to compact). Strict: unknown keys are refused.
 */
export const CompactionRequestSchema = z
  .strictObject({
    source: z.string().min(1).optional(),
    /** `<aws.scheduler.scheduled-time>`, e.g. `2024-03-05T00:15:00Z`. */
    scheduledTime: z.iso.datetime({ offset: true }).optional(),
    /** Explicit day to compact (wins over `scheduledTime`). */
    date: CompactionDateSchema.optional(),
  })
  .refine((r) => r.date !== undefined || r.scheduledTime !== undefined, {
    message: 'needs date or scheduledTime',
  });
export type CompactionRequest = z.infer<typeof CompactionRequestSchema>;

/**
 * The UTC day a request compacts: `date` when given, else the UTC calendar day before
 * `scheduledTime`.
 *
 * @param request raw request (validated here).
 * @returns `YYYY-MM-DD`.
 * @throws ValidationError (field `request` or `request.<field>`) when neither field is valid.
 */
export function compactionDate(request: unknown): string {
  const { date, scheduledTime } = parseOrThrow(CompactionRequestSchema, request, 'request');
  if (date !== undefined) return date;
  const at = Date.parse(scheduledTime as string);
  const day = Math.floor(at / DAY_MS) * DAY_MS;
  return new Date(day - DAY_MS).toISOString().slice(0, 10);
}

/** What verification and anchoring read and write. */
export interface AuditTrailDeps {
  /** Stored records (S3 in AWS, s3rver locally). */
  readonly reader: AuditReader;
  /** This deployment's environment (`local` for the local runtime). */
  readonly environment: AuditEnvironment;
  /**
   * Manifests, anchor and stream heads. Without it only the hash chains are checked (no
   * completeness) and nothing is anchored.
   */
  readonly anchors?: AuditAnchorStore;
}

interface TrailCheck {
  readonly result: VerifyResult;
  /** The parsed, valid records read. */
  readonly records: AuditRecord[];
  /** The valid manifests, oldest first. */
  readonly manifests: AuditDayManifest[];
  readonly anchor: AuditAnchor | null;
}

function validRecords(inputs: readonly VerifyInput[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const i of inputs) {
    const parsed = auditRecordSchema.safeParse(i.record);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

async function checkTrail(deps: AuditTrailDeps, date: string | undefined): Promise<TrailCheck> {
  const { reader, anchors, environment } = deps;
  const inputs = await reader.readRecords({ environment, date });
  const records = validRecords(inputs);
  if (!anchors) {
    return {
      result: verifyChains(inputs, { partial: date !== undefined }),
      records,
      manifests: [],
      anchor: null,
    };
  }
  const streams = [...new Set(records.map((r) => r.stream))];
  const [heads, stored, anchor] = await Promise.all([
    date === undefined
      ? anchors.listHeads(environment)
      : anchors.headsSince(environment, date, streams),
    anchors.readManifests(environment),
    anchors.readAnchor(environment),
  ]);
  const chain = verifyManifestChain(stored, anchor);
  if (date === undefined) {
    const result = withBreaks(verifyChains(inputs, { heads }), [
      ...chain.breaks,
      ...checkManifestsAgainstRecords(chain.manifests, records),
    ]);
    return { result, records, manifests: chain.manifests, anchor };
  }
  const previous = chain.manifests.filter((m) => m.date < date).pop() ?? null;
  const own = chain.manifests.find((m) => m.date === date) ?? null;
  const edges = checkDayEdges({
    date,
    records,
    previous,
    own,
    heads,
    next: own ? undefined : await anchors.firstRecordsAfter(environment, date),
  });
  const result = withBreaks(verifyChains(inputs, { partial: true }), [...chain.breaks, ...edges]);
  return { result, records, manifests: chain.manifests, anchor };
}

/**
 * Verifies the whole trail of an environment, or one UTC day of it: the hash chains and, with
 * `deps.anchors`, completeness (every stream head has its records and the newest record is the
 * head; the day manifests chain up to the anchor and match the records; for one day, its first
 * record meets the previous manifest and its last the day's manifest, the next stored record
 * or the head).
 *
 * @param date `YYYY-MM-DD` (validated by the caller); the whole trail when absent.
 * @returns the VerifyResult (ok, or the earliest break naming stream, seq, key and reason).
 * @throws TransientError when storage keeps failing (from the ports).
 */
export async function verifyAuditTrail(deps: AuditTrailDeps, date?: string): Promise<VerifyResult> {
  return (await checkTrail(deps, date)).result;
}

/** Result of {@link verifyAuditDay}. */
export interface VerifiedAuditDay {
  /** The verified UTC day, `YYYY-MM-DD` (validated: safe to inline in SQL). */
  readonly date: string;
  readonly environment: AuditEnvironment;
  /** Records read and verified that day (0: nothing to compact). */
  readonly records: number;
  /** Distinct streams seen that day. */
  readonly streams: number;
  /**
   * Storage key of the day manifest written, null when none was (no anchor store, no records,
   * the day was anchored before, or a later day is anchored already).
   */
  readonly manifestKey: string | null;
}

/**
 * Verifies one UTC day (chains and, with `deps.anchors`, completeness) and anchors it: writes
 * the day's manifest, chained onto the newest one, and moves the anchor to it. Days are
 * anchored in date order: a day anchored already, or older than the newest anchored day, is
 * verified against its manifest and left as it is.
 *
 * @param date `YYYY-MM-DD` (validated by the caller).
 * @throws AuditChainBrokenError at the earliest break (nothing is anchored).
 * @throws TransientError when storage keeps failing, or the anchor moved meanwhile.
 */
export async function verifyAndAnchorAuditDay(
  deps: AuditTrailDeps,
  date: string,
): Promise<VerifiedAuditDay> {
  const check = await checkTrail(deps, date);
  const b = check.result.firstBreak;
  if (!check.result.ok && b) {
    throw new AuditChainBrokenError(b.stream, b.seq, b.key, b.reason, b.detail);
  }
  const out = {
    date,
    environment: deps.environment,
    records: check.result.checked,
    streams: check.result.streams,
  };
  const newest = check.manifests[check.manifests.length - 1] ?? null;
  if (!deps.anchors || check.records.length === 0 || (newest && newest.date >= date)) {
    return { ...out, manifestKey: null };
  }
  const manifest = buildDayManifest({
    environment: deps.environment,
    date,
    records: check.records,
    previous: newest,
  });
  return { ...out, manifestKey: await deps.anchors.writeManifest(manifest, check.anchor) };
}

/**
 * The verify step of the daily compaction: {@link verifyAndAnchorAuditDay} on the day the
 * request names.
 *
 * @param deps `reader` and `anchors` (S3 and the stream-head table in AWS), `environment`
 *   (this deployment's stage).
 * @param request `{ date }` or `{ scheduledTime }` (see {@link compactionDate}).
 * @throws ValidationError when the request names no valid day.
 * @throws AuditChainBrokenError at the earliest break (nothing may be compacted or anchored).
 * @throws TransientError when storage keeps failing.
 */
export async function verifyAuditDay(
  deps: AuditTrailDeps,
  request: unknown,
): Promise<VerifiedAuditDay> {
  return verifyAndAnchorAuditDay(deps, compactionDate(request));
}
