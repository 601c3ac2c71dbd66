/**
 * The verify step of the daily audit compaction (docs/audit.md#compaction): picks the UTC day
 * to compact, reads that day's records and re-verifies their hash chains. Only a day that
 * verifies may be compacted to Parquet, so compaction never launders a tampered record.
 */
import * as z from 'zod';
import type { AuditReader } from '../../ports/audit.js';
import type { AuditEnvironment } from '../audit/record.js';
import { verifyChains } from '../audit/verify.js';
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

/** Result of {@link verifyAuditDay}. */
export interface VerifiedAuditDay {
  /** The verified UTC day, `YYYY-MM-DD` (validated: safe to inline in SQL). */
  readonly date: string;
  readonly environment: AuditEnvironment;
  /** Records read and verified that day (0: nothing to compact). */
  readonly records: number;
  /** Distinct streams seen that day. */
  readonly streams: number;
}

/**
 * Reads one environment's records of one UTC day and verifies their chains as a window
 * (`partial`: each stream's first record that day is the trusted anchor).
 *
 * @param deps `reader` (S3 in AWS), `environment` (this deployment's stage).
 * @param request `{ date }` or `{ scheduledTime }` (see {@link compactionDate}).
 * @throws ValidationError when the request names no valid day.
 * @throws AuditChainBrokenError at the earliest break (nothing may be compacted).
 * @throws TransientError when storage keeps failing (from the reader).
 */
export async function verifyAuditDay(
  deps: { readonly reader: AuditReader; readonly environment: AuditEnvironment },
  request: unknown,
): Promise<VerifiedAuditDay> {
  const date = compactionDate(request);
  const inputs = await deps.reader.readRecords({ environment: deps.environment, date });
  const result = verifyChains(inputs, { partial: true });
  const b = result.firstBreak;
  if (!result.ok && b) {
    throw new AuditChainBrokenError(b.stream, b.seq, b.key, b.reason, b.detail);
  }
  return { date, environment: deps.environment, records: result.checked, streams: result.streams };
}
