/**
 * Stored audit records as the read sides (console API, daily report) use them: parsed, with
 * their JSON payload decoded, oldest first; and the gate verdicts of one promotion.
 *
 * Errors: `TransientError` from the reader. Records that do not parse are left out (the
 * audit verifier, not a read view, reports them).
 */
import type { AuditReader, AuditReadQuery } from '../../ports/audit.js';
import { type AuditEnvironment, auditRecordSchema } from '../audit/record.js';
import type { AuditRow } from './console-trading.js';

/**
 * The streams that hold every record about a promotion (`subject.promotion_id`): its
 * `promotion:<promotionId>` stream takes its staging, slot decision, `gate_evaluated` verdicts,
 * orders and its paper session's records (`paper_decision`, `order_intent`,
 * `order_status_changed`, `reconciliation`, `paper_session_completed`), as the Day-3 review's.
 * What a read of gate verdicts or paper sessions passes as `streamPrefixes`.
 */
export const PROMOTION_STREAMS: readonly string[] = ['promotion:'];

/**
 * Parsed records of the given UTC days (`YYYY-MM-DD`; all days when `days` is null), oldest
 * first (then by id); only those of the streams `streamPrefixes` selects when it is given
 * ({@link AuditReadQuery}: the reader leaves the others unread). A payload that is not JSON is
 * kept as its text.
 */
export async function readAuditRows(
  reader: AuditReader,
  environment: AuditEnvironment,
  days: readonly string[] | null,
  streamPrefixes?: readonly string[],
): Promise<AuditRow[]> {
  const scope: AuditReadQuery = streamPrefixes ? { environment, streamPrefixes } : { environment };
  const inputs = days
    ? (await Promise.all(days.map((date) => reader.readRecords({ ...scope, date })))).flat()
    : await reader.readRecords(scope);
  const out: AuditRow[] = [];
  for (const input of inputs) {
    const parsed = auditRecordSchema.safeParse(input.record);
    if (!parsed.success) continue;
    const r = parsed.data;
    let payload: unknown = r.payload;
    try {
      payload = JSON.parse(r.payload);
    } catch {
      // keep the raw text
    }
    out.push({
      id: r.id,
      ts: r.ts,
      kind: r.kind,
      actor: r.actor,
      stream: r.stream,
      seq: r.seq,
      subject: r.subject,
      payload,
      hash: r.hash,
      prevHash: r.prev_hash,
    });
  }
  return out.sort((a, b) => a.ts.localeCompare(b.ts) || a.id.localeCompare(b.id));
}

/** The UTC day of `iso` and the next one (a session may cross UTC midnight). */
export function utcDayAndNext(iso: string): [string, string] {
  const day = iso.slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return [day, next];
}

/** One gate's verdict as recorded (`gate_evaluated`): observed value and threshold in `unit`. */
export interface GateRow {
  readonly gate: unknown;
  readonly verdict: unknown;
  readonly observed: unknown;
  readonly threshold: unknown;
  readonly unit: unknown;
  readonly reason: unknown;
  /** UTC ISO-8601. */
  readonly evaluatedAtIso: string;
}

/** The `gate_evaluated` records of one promotion among `records`, in their order. */
export function gateRowsOf(records: readonly AuditRow[], promotionId: string): GateRow[] {
  return records
    .filter((r) => r.kind === 'gate_evaluated' && r.subject.promotion_id === promotionId)
    .map((r) => {
      const p = r.payload as Record<string, unknown>;
      return {
        gate: p.gate,
        verdict: p.verdict,
        observed: p.observed ?? null,
        threshold: p.threshold ?? null,
        unit: p.unit ?? null,
        reason: p.reason,
        evaluatedAtIso: r.ts,
      };
    });
}
