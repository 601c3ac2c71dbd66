/**
 * Day anchors for audit completeness (docs/audit.md#completeness): the hash chains prove that
 * the records present are unaltered and in order, not that none are missing at the edges of a
 * window. A day manifest closes that gap.
 *
 * A manifest lists, for one environment and one UTC day, every stream with records that day:
 * its first seq and that record's `prev_hash`, its last seq and hash, and the record count. It
 * commits to the previous manifest (`prev_date`, `prev_hash`: manifests form their own hash
 * chain across days) and is hashed like a record: hex SHA-256 over the canonical JSON of the
 * manifest without `hash`. The newest manifest's date and hash (the anchor) are kept outside
 * the audit bucket (the stream-head table), so deleting the newest day's manifest is detected.
 *
 * Detected with manifests (besides what verify.ts detects):
 * - a deleted first record of a day: the day's first record does not follow the previous
 *   manifest's last record of its stream (`day-edge`);
 * - a deleted last record of a day: it is not the one the day's manifest names, or it is not
 *   followed by the next stored record or the head (`day-edge`);
 * - a stream's records of a whole day deleted: the manifest lists the stream (`manifest-mismatch`);
 * - a deleted, altered or reordered manifest, or a deleted newest day: the manifest chain or
 *   the anchor does not match (`anchor-mismatch`).
 */
import * as z from 'zod';
import type { AuditEnvironment, AuditRecord, StreamHead } from './record.js';
import { AUDIT_ENVIRONMENTS, canonicalJson, sha256Hex, ZERO_HASH } from './record.js';
import type { VerifyBreak } from './verify.js';

const HEX64 = /^[0-9a-f]{64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One stream's extent within a day. */
export const manifestStreamSchema = z.strictObject({
  stream: z.string().min(1),
  first_seq: z.number().int().nonnegative(),
  /** `prev_hash` of the day's first record (64 zeros for a stream's seq 0). */
  first_prev_hash: z.string().regex(HEX64),
  last_seq: z.number().int().nonnegative(),
  last_hash: z.string().regex(HEX64),
  /** Records of the stream that day. */
  records: z.number().int().positive(),
});
export type ManifestStream = z.infer<typeof manifestStreamSchema>;

/** The stored manifest of one UTC day. */
export const auditDayManifestSchema = z.strictObject({
  kind: z.literal('audit_day_manifest'),
  version: z.literal(1),
  environment: z.enum(AUDIT_ENVIRONMENTS),
  /** The UTC day, `YYYY-MM-DD`. */
  date: z.string().regex(DATE),
  /** Streams with records that day, sorted by stream id. */
  streams: z.array(manifestStreamSchema),
  /** Date of the previous manifest, null for the first one. */
  prev_date: z.string().regex(DATE).nullable(),
  /** Hash of the previous manifest, 64 zeros for the first one. */
  prev_hash: z.string().regex(HEX64),
  hash: z.string().regex(HEX64),
});
export type AuditDayManifest = z.infer<typeof auditDayManifestSchema>;

/** The newest manifest's date and hash, kept outside the audit bucket. */
export interface AuditAnchor {
  readonly date: string;
  readonly hash: string;
}

/** Hex SHA-256 over the canonical JSON of a manifest without `hash`. */
export function hashManifest(manifest: Omit<AuditDayManifest, 'hash'> | AuditDayManifest): string {
  const { hash: _ignored, ...rest } = manifest as AuditDayManifest;
  return sha256Hex(canonicalJson(rest));
}

/**
 * Builds the manifest of `date` from that day's (verified) records.
 *
 * @param input.records the day's records, any order, any streams (all must be of `date`).
 * @param input.previous the newest manifest before `date`, null when there is none.
 * @throws Error when `previous` is not older than `date` or a record is of another day.
 */
export function buildDayManifest(input: {
  readonly environment: AuditEnvironment;
  readonly date: string;
  readonly records: readonly AuditRecord[];
  readonly previous: AuditDayManifest | null;
}): AuditDayManifest {
  if (input.previous && input.previous.date >= input.date) {
    throw new Error(
      `manifest of ${input.date} cannot follow the manifest of ${input.previous.date}`,
    );
  }
  const byStream = new Map<string, AuditRecord[]>();
  for (const r of input.records) {
    if (r.ts.slice(0, 10) !== input.date) {
      throw new Error(`record ${r.id} of ${r.ts.slice(0, 10)} is not of ${input.date}`);
    }
    const list = byStream.get(r.stream) ?? [];
    list.push(r);
    byStream.set(r.stream, list);
  }
  const streams: ManifestStream[] = [...byStream.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stream, list]) => {
      list.sort((a, b) => a.seq - b.seq);
      const first = list[0] as AuditRecord;
      const last = list[list.length - 1] as AuditRecord;
      return {
        stream,
        first_seq: first.seq,
        first_prev_hash: first.prev_hash,
        last_seq: last.seq,
        last_hash: last.hash,
        records: list.length,
      };
    });
  const body: Omit<AuditDayManifest, 'hash'> = {
    kind: 'audit_day_manifest',
    version: 1,
    environment: input.environment,
    date: input.date,
    streams,
    prev_date: input.previous?.date ?? null,
    prev_hash: input.previous?.hash ?? ZERO_HASH,
  };
  return { ...body, hash: hashManifest(body) };
}

function manifestBreak(date: string | null, detail: string): VerifyBreak {
  return {
    stream: null,
    seq: null,
    id: null,
    key: null,
    ts: date ? `${date}T00:00:00.000Z` : null,
    reason: 'anchor-mismatch',
    detail,
  };
}

/**
 * Checks the manifests' own chain and the anchor: every manifest parses and hashes to its
 * `hash`, each links to the one before it (by date), and the newest is the anchor.
 *
 * @param manifests stored manifests (raw JSON), any order.
 * @param anchor the anchor from the head table; null when nothing was ever anchored (then no
 *   manifest may exist either).
 * @returns the valid manifests sorted by date, and the breaks found.
 */
export function verifyManifestChain(
  manifests: readonly unknown[],
  anchor: AuditAnchor | null,
): { manifests: AuditDayManifest[]; breaks: VerifyBreak[] } {
  const breaks: VerifyBreak[] = [];
  const valid: AuditDayManifest[] = [];
  for (const raw of manifests) {
    const parsed = auditDayManifestSchema.safeParse(raw);
    if (!parsed.success) {
      const date = (raw as { date?: unknown } | null)?.date;
      breaks.push(
        manifestBreak(typeof date === 'string' ? date : null, 'a day manifest is not valid'),
      );
      continue;
    }
    if (hashManifest(parsed.data) !== parsed.data.hash) {
      breaks.push(
        manifestBreak(parsed.data.date, `manifest of ${parsed.data.date} was altered (hash)`),
      );
      continue;
    }
    valid.push(parsed.data);
  }
  valid.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  let prev: AuditDayManifest | null = null;
  for (const m of valid) {
    const wantDate = prev?.date ?? null;
    const wantHash = prev?.hash ?? ZERO_HASH;
    if (m.prev_date !== wantDate || m.prev_hash !== wantHash) {
      breaks.push(
        manifestBreak(
          m.date,
          `manifest of ${m.date} commits to ${m.prev_date ?? 'no manifest'} but the manifest before it is ${wantDate ?? 'none'}: a day manifest was deleted or replaced`,
        ),
      );
    }
    prev = m;
  }
  const newest = valid[valid.length - 1] ?? null;
  if (anchor === null) {
    if (newest) {
      breaks.push(
        manifestBreak(newest.date, 'day manifests exist but no anchor is stored: anchor deleted'),
      );
    }
  } else if (!newest || newest.date !== anchor.date || newest.hash !== anchor.hash) {
    breaks.push(
      manifestBreak(
        anchor.date,
        `the anchor names the manifest of ${anchor.date} (${anchor.hash.slice(0, 12)}...) but the newest stored manifest is ${newest ? `of ${newest.date} (${newest.hash.slice(0, 12)}...)` : 'none'}: the newest day was deleted or rewritten`,
      ),
    );
  }
  return { manifests: valid, breaks };
}

/** A stream head with the `ts` of its record (UTC ISO-8601; null when unknown). */
export interface DatedStreamHead extends StreamHead {
  readonly ts: string | null;
}

/** The first stored record of a stream after a day (seq and prev_hash), for the edge check. */
export interface NextRecord {
  readonly seq: number;
  readonly prevHash: string;
}

function edge(r: AuditRecord, detail: string, reason: VerifyBreak['reason'] = 'day-edge') {
  return { stream: r.stream, seq: r.seq, id: r.id, key: null, ts: r.ts, reason, detail };
}

type DayManifestStream = AuditDayManifest['streams'][number];

/** The day's first record of `stream` must follow the previous manifest's end (or be seq 0). */
function startEdgeBreak(
  previous: AuditDayManifest,
  date: string,
  p: DayManifestStream | undefined,
  stream: string,
  first: AuditRecord,
): VerifyBreak | null {
  const wantSeq = p ? p.last_seq + 1 : 0;
  const wantPrev = p ? p.last_hash : ZERO_HASH;
  if (first.seq === wantSeq && first.prev_hash === wantPrev) return null;
  return edge(
    first,
    p
      ? `the day's first record of ${stream} is seq ${first.seq} but the manifest of ${previous.date} ends the stream at seq ${p.last_seq}: record(s) at the start of ${date} deleted`
      : `${stream} first appears on ${date} at seq ${first.seq}, not at seq 0, and no earlier manifest lists it`,
  );
}

/** The day's own manifest must list `stream` with the stored first and last record and count. */
function ownManifestBreak(
  date: string,
  o: DayManifestStream | undefined,
  stream: string,
  list: readonly AuditRecord[],
): VerifyBreak | null {
  const first = list[0] as AuditRecord;
  const last = list[list.length - 1] as AuditRecord;
  if (!o) {
    return edge(
      last,
      `${stream} has records on ${date} that the day's manifest does not list`,
      'manifest-mismatch',
    );
  }
  if (o.last_seq !== last.seq || o.last_hash !== last.hash) {
    return edge(
      last,
      `the manifest of ${date} ends ${stream} at seq ${o.last_seq} but the last stored record is seq ${last.seq}: record(s) at the end of the day deleted`,
    );
  }
  if (o.first_seq !== first.seq || o.records !== list.length) {
    return edge(
      first,
      `the manifest of ${date} lists ${o.records} record(s) of ${stream} from seq ${o.first_seq}, stored are ${list.length} from seq ${first.seq}`,
      'manifest-mismatch',
    );
  }
  return null;
}

/** Without the day's manifest: the day's last record must be followed by the next record or be the head. */
function endEdgeBreak(
  input: {
    readonly date: string;
    readonly heads?: ReadonlyMap<string, StreamHead | DatedStreamHead>;
    readonly next?: ReadonlyMap<string, NextRecord>;
  },
  stream: string,
  last: AuditRecord,
): VerifyBreak | null {
  const next = input.next?.get(stream);
  const head = input.heads?.get(stream);
  const followed = next ? next.seq === last.seq + 1 && next.prevHash === last.hash : false;
  const isHead = head ? head.seq === last.seq && head.hash === last.hash : false;
  if (followed || isHead || !(next || head)) return null;
  return edge(
    last,
    `the day's last record of ${stream} is seq ${last.seq} but the stream continues at seq ${next?.seq ?? (head ? head.seq : '?')}${next ? ' (next stored record)' : ' (head)'}: record(s) at the end of ${input.date} deleted`,
  );
}

/**
 * Checks the edges of one day's records (whose chains inside the day verify.ts checks):
 *
 * - first record of each stream: follows `previous`'s last record of the stream (seq + 1,
 *   prev_hash = its hash), or starts the stream (seq 0) when `previous` does not list it;
 *   skipped when `previous` is null (nothing anchored before the day);
 * - last record of each stream: is the one `own` names; without `own`, is followed by
 *   `next` (the stream's first stored record after the day) or is the head;
 * - `own`'s streams, and every stream whose head was written that day, have records that day.
 *
 * @returns the first break of each stream with a broken edge (empty when all hold).
 */
export function checkDayEdges(input: {
  readonly date: string;
  readonly records: readonly AuditRecord[];
  readonly previous: AuditDayManifest | null;
  readonly own: AuditDayManifest | null;
  readonly heads?: ReadonlyMap<string, StreamHead | DatedStreamHead>;
  readonly next?: ReadonlyMap<string, NextRecord>;
}): VerifyBreak[] {
  const byStream = new Map<string, AuditRecord[]>();
  for (const r of input.records) {
    const list = byStream.get(r.stream) ?? [];
    list.push(r);
    byStream.set(r.stream, list);
  }
  const prevOf = new Map(input.previous?.streams.map((s) => [s.stream, s]) ?? []);
  const ownOf = new Map(input.own?.streams.map((s) => [s.stream, s]) ?? []);
  const breaks: VerifyBreak[] = [];
  for (const [stream, list] of byStream) {
    list.sort((a, b) => a.seq - b.seq);
    const first = list[0] as AuditRecord;
    const last = list[list.length - 1] as AuditRecord;
    const start = input.previous
      ? startEdgeBreak(input.previous, input.date, prevOf.get(stream), stream, first)
      : null;
    const end = start
      ? null
      : input.own
        ? ownManifestBreak(input.date, ownOf.get(stream), stream, list)
        : endEdgeBreak(input, stream, last);
    const found = start ?? end;
    if (found) breaks.push(found);
  }
  for (const [stream, head] of input.heads ?? []) {
    if (byStream.has(stream) || !('ts' in head) || head.ts?.slice(0, 10) !== input.date) continue;
    breaks.push({
      stream,
      seq: head.seq,
      id: null,
      key: null,
      ts: head.ts,
      reason: 'head-mismatch',
      detail: `the head of ${stream} (seq ${head.seq}) was written on ${input.date} but no record of the stream is stored that day: deleted`,
    });
  }
  for (const o of input.own?.streams ?? []) {
    if (byStream.has(o.stream)) continue;
    breaks.push({
      stream: o.stream,
      seq: o.first_seq,
      id: null,
      key: null,
      ts: `${input.date}T00:00:00.000Z`,
      reason: 'manifest-mismatch',
      detail: `the manifest of ${input.date} lists ${o.records} record(s) of ${o.stream} (seq ${o.first_seq}..${o.last_seq}) but none is stored: the stream's records of that day were deleted`,
    });
  }
  return breaks;
}

/**
 * Whole-trail check of the manifests against the stored records: each stream a manifest lists
 * still has its first and last record of that day, with the hashes the manifest names (a
 * stream deleted together with its head item is caught here).
 */
export function checkManifestsAgainstRecords(
  manifests: readonly AuditDayManifest[],
  records: readonly AuditRecord[],
): VerifyBreak[] {
  const at = new Map<string, AuditRecord>();
  for (const r of records) at.set(`${r.stream}\u0000${r.seq}`, r);
  const breaks: VerifyBreak[] = [];
  for (const m of manifests) {
    for (const s of m.streams) {
      const first = at.get(`${s.stream}\u0000${s.first_seq}`);
      const last = at.get(`${s.stream}\u0000${s.last_seq}`);
      if (first?.prev_hash === s.first_prev_hash && last?.hash === s.last_hash) continue;
      breaks.push({
        stream: s.stream,
        seq: first ? s.last_seq : s.first_seq,
        id: null,
        key: null,
        ts: `${m.date}T00:00:00.000Z`,
        reason: 'manifest-mismatch',
        detail: `the manifest of ${m.date} lists ${s.stream} seq ${s.first_seq}..${s.last_seq}, but ${first ? `seq ${s.last_seq}` : `seq ${s.first_seq}`} is not stored as listed: records deleted or rewritten`,
      });
    }
  }
  return breaks;
}
