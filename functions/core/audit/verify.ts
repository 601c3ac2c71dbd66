/**
 * Tamper evidence: recompute every record's hash and walk each stream's `prev_hash` links.
 *
 * What is detected, per stream (records are sorted by `seq`, so the order they are read in
 * does not matter):
 * - a changed field: the recomputed hash differs from the stored `hash` (`hash-mismatch`);
 * - a deleted record: a hole in the `seq` sequence (`seq-gap`) or a stream that does not start
 *   at seq 0 (`seq-gap` too);
 * - a fork or a copied record: two records with the same seq (`duplicate-seq`);
 * - reordered or re-hashed records: `prev_hash` does not equal the previous record's hash
 *   (`prev-hash-mismatch`);
 * - an object moved or swapped in S3: the key disagrees with the record it holds
 *   (`key-mismatch`);
 * - a truncated tail (the last records deleted), when the stream heads are supplied: the last
 *   stored record is not the head (`head-mismatch`);
 * - anything that is not a valid record at all (`invalid-record`).
 *
 * Limits: the chain is unkeyed, so someone able to rewrite a whole suffix of a stream AND its
 * head item can forge a consistent history; Object Lock on the bucket and IAM on the table are
 * what prevent that (docs/audit.md).
 */
import type { AuditKeyParts } from './keys.js';
import { parseAuditObjectKey, partitionOf } from './keys.js';
import type { AuditRecord, StreamHead } from './record.js';
import { auditRecordSchema, hashRecord, ZERO_HASH } from './record.js';

/** One stored record to check: the parsed JSON and, when known, the S3 key it was read from. */
export interface VerifyInput {
  readonly record: unknown;
  readonly key?: string;
}

export type VerifyBreakReason =
  | 'invalid-record'
  | 'hash-mismatch'
  | 'prev-hash-mismatch'
  | 'seq-gap'
  | 'duplicate-seq'
  | 'key-mismatch'
  | 'head-mismatch'
  /** A day's first or last record does not meet its neighbour day (manifest.ts). */
  | 'day-edge'
  /** Stored records disagree with the day manifest that lists them (manifest.ts). */
  | 'manifest-mismatch'
  /** The day manifests' own chain or the anchor outside the bucket is broken (manifest.ts). */
  | 'anchor-mismatch';

/** The first record of a stream at which the chain cannot be trusted. */
export interface VerifyBreak {
  /** Stream id, null when the record is too broken to say. */
  readonly stream: string | null;
  /** seq of the offending record (as stored), null when unknown. */
  readonly seq: number | null;
  /** id of the offending record, null when unknown. */
  readonly id: string | null;
  /** S3 key the record was read from, null when not supplied. */
  readonly key: string | null;
  /** `ts` of the offending record, null when unknown. */
  readonly ts: string | null;
  readonly reason: VerifyBreakReason;
  /** Human-readable explanation naming what was expected. */
  readonly detail: string;
}

export interface VerifyResult {
  /** True when every stream checked out. */
  readonly ok: boolean;
  /** Records examined. */
  readonly checked: number;
  /** Distinct streams seen. */
  readonly streams: number;
  /**
   * The earliest break: invalid records first, then the break with the smallest `ts`
   * (ties by stream, seq). Null when `ok`.
   */
  readonly firstBreak: VerifyBreak | null;
  /** The first break of every broken stream (plus each invalid record), in the same order. */
  readonly breaks: readonly VerifyBreak[];
}

export interface VerifyOptions {
  /**
   * The records are a window (e.g. one day), not whole streams: the first record of each
   * stream is trusted as the anchor (its seq need not be 0, its prev_hash is not checked) and
   * streams in `heads` without records are not reported. Default false.
   */
  readonly partial?: boolean;
  /**
   * Current stream heads (from the head table). The last stored record of each stream must be
   * the head; without this, deleting the newest records of a stream is undetectable.
   */
  readonly heads?: ReadonlyMap<string, StreamHead>;
}

interface Entry {
  readonly record: AuditRecord;
  readonly key: string | null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function describeRaw(input: VerifyInput): Pick<VerifyBreak, 'stream' | 'seq' | 'id' | 'ts'> {
  const raw = input.record;
  const obj = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const parts: AuditKeyParts | null = input.key ? parseAuditObjectKey(input.key) : null;
  const seq = typeof obj.seq === 'number' && Number.isInteger(obj.seq) ? obj.seq : null;
  return {
    stream: str(obj.stream) ?? parts?.stream ?? null,
    seq: seq ?? parts?.seq ?? null,
    id: str(obj.id) ?? parts?.id ?? null,
    ts: str(obj.ts),
  };
}

function brk(entry: Entry, reason: VerifyBreakReason, detail: string): VerifyBreak {
  const r = entry.record;
  return { stream: r.stream, seq: r.seq, id: r.id, key: entry.key, ts: r.ts, reason, detail };
}

function keyProblem(entry: Entry): string | null {
  if (entry.key === null) return null;
  const parts = parseAuditObjectKey(entry.key);
  if (parts === null) return `key ${entry.key} does not follow the audit key layout`;
  const r = entry.record;
  const { dt, hour } = partitionOf(r.ts);
  const diffs: string[] = [];
  if (parts.environment !== r.environment) diffs.push(`env ${parts.environment}/${r.environment}`);
  if (parts.dt !== dt) diffs.push(`dt ${parts.dt}/${dt}`);
  if (parts.hour !== hour) diffs.push(`hour ${parts.hour}/${hour}`);
  if (parts.stream !== r.stream) diffs.push(`stream ${parts.stream}/${r.stream}`);
  if (parts.seq !== r.seq) diffs.push(`seq ${parts.seq}/${r.seq}`);
  if (parts.id !== r.id) diffs.push(`id ${parts.id}/${r.id}`);
  return diffs.length === 0
    ? null
    : `object ${entry.key} holds a record that does not belong there (key/record: ${diffs.join(', ')})`;
}

function verifyStream(
  stream: string,
  entries: Entry[],
  options: VerifyOptions,
  invalidSeqs: ReadonlySet<number>,
): VerifyBreak | null {
  entries.sort((a, b) => a.record.seq - b.record.seq || a.record.id.localeCompare(b.record.id));
  const first = entries[0];
  if (!first) return null;
  let expectedSeq = options.partial ? first.record.seq : 0;
  let prevHash: string | null = options.partial ? null : ZERO_HASH;
  let prev: Entry | null = null;
  for (const entry of entries) {
    const r = entry.record;
    if (prev !== null && r.seq === prev.record.seq) {
      return brk(
        entry,
        'duplicate-seq',
        `seq ${r.seq} of ${stream} is held by two records (${prev.record.id}, ${r.id})`,
      );
    }
    if (r.seq > expectedSeq) {
      let explained = true;
      for (let s = expectedSeq; s < r.seq; s += 1) explained &&= invalidSeqs.has(s);
      if (!explained) {
        const missing =
          r.seq - expectedSeq === 1 ? `seq ${expectedSeq}` : `seqs ${expectedSeq}..${r.seq - 1}`;
        return brk(
          entry,
          'seq-gap',
          `${missing} of ${stream} missing (deleted?); next present is seq ${r.seq}`,
        );
      }
      // The hole is an invalid record, already reported: the link across it is unknowable.
      prevHash = null;
    }
    const recomputed = hashRecord(r);
    if (recomputed !== r.hash) {
      return brk(
        entry,
        'hash-mismatch',
        `content changed: stored hash ${r.hash} but the record hashes to ${recomputed}`,
      );
    }
    const misplaced = keyProblem(entry);
    if (misplaced !== null) return brk(entry, 'key-mismatch', misplaced);
    if (prevHash !== null && r.prev_hash !== prevHash) {
      return brk(
        entry,
        'prev-hash-mismatch',
        prev === null
          ? `seq ${r.seq} starts ${stream} but prev_hash is not 64 zeros`
          : `prev_hash does not link to seq ${prev.record.seq} (${prev.record.id}): records reordered or rewritten`,
      );
    }
    prev = entry;
    prevHash = r.hash;
    expectedSeq = r.seq + 1;
  }
  const head = options.heads?.get(stream);
  if (head && prev && (head.seq !== prev.record.seq || head.hash !== prev.record.hash)) {
    return brk(
      prev,
      'head-mismatch',
      head.seq > prev.record.seq
        ? `stream head is at seq ${head.seq} but the last stored record is seq ${prev.record.seq}: newer records deleted or not yet written`
        : `stream head (seq ${head.seq}, ${head.hash}) is not the last stored record (seq ${prev.record.seq})`,
    );
  }
  return null;
}

function breakOrder(a: VerifyBreak, b: VerifyBreak): number {
  const inv = Number(b.reason === 'invalid-record') - Number(a.reason === 'invalid-record');
  if (inv !== 0) return inv;
  const ts = (a.ts ?? '').localeCompare(b.ts ?? '');
  if (ts !== 0) return ts;
  const st = (a.stream ?? '').localeCompare(b.stream ?? '');
  if (st !== 0) return st;
  return (a.seq ?? -1) - (b.seq ?? -1);
}

/**
 * Verifies the hash chains of a set of stored records (any order, any mix of streams).
 *
 * @param inputs parsed records, each with the S3 key it came from when known (the key is then
 *   checked against the record: environment, dt, hour, stream, seq, id).
 * @param options `partial` for a window of records; `heads` to detect a truncated tail.
 * @returns ok plus, when broken, the first break of every broken stream and the earliest
 *   break overall (`firstBreak`), each naming stream, seq, id, key and a reason. Never throws
 *   for bad data: a malformed record is reported as `invalid-record`.
 */
export function verifyChains(
  inputs: readonly VerifyInput[],
  options: VerifyOptions = {},
): VerifyResult {
  const byStream = new Map<string, Entry[]>();
  const invalid = new Map<string, Set<number>>();
  const breaks: VerifyBreak[] = [];
  for (const input of inputs) {
    const parsed = auditRecordSchema.safeParse(input.record);
    if (!parsed.success) {
      const where = describeRaw(input);
      const issue = parsed.error.issues[0];
      breaks.push({
        ...where,
        key: input.key ?? null,
        reason: 'invalid-record',
        detail: `not a valid audit record: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`,
      });
      if (where.stream !== null && where.seq !== null) {
        const set = invalid.get(where.stream) ?? new Set<number>();
        set.add(where.seq);
        invalid.set(where.stream, set);
      }
      continue;
    }
    const list = byStream.get(parsed.data.stream) ?? [];
    list.push({ record: parsed.data, key: input.key ?? null });
    byStream.set(parsed.data.stream, list);
  }
  const invalidStreams = new Set(breaks.map((b) => b.stream));
  for (const [stream, entries] of byStream) {
    const b = verifyStream(stream, entries, options, invalid.get(stream) ?? new Set());
    if (b) breaks.push(b);
  }
  if (options.heads && !options.partial) {
    for (const [stream, head] of options.heads) {
      if (byStream.has(stream) || invalidStreams.has(stream)) continue;
      breaks.push({
        stream,
        seq: head.seq,
        id: null,
        key: null,
        ts: null,
        reason: 'head-mismatch',
        detail: `stream head is at seq ${head.seq} but no record of ${stream} is stored`,
      });
    }
  }
  breaks.sort(breakOrder);
  const streams = new Set([...byStream.keys(), ...invalidStreams].filter((s) => s !== null));
  return {
    ok: breaks.length === 0,
    checked: inputs.length,
    streams: streams.size,
    firstBreak: breaks[0] ?? null,
    breaks,
  };
}

/**
 * `result` with `extra` breaks (e.g. the day-edge and manifest checks of manifest.ts) merged
 * in, ordered like verifyChains orders its own.
 */
export function withBreaks(result: VerifyResult, extra: readonly VerifyBreak[]): VerifyResult {
  if (extra.length === 0) return result;
  const breaks = [...result.breaks, ...extra].sort(breakOrder);
  return { ...result, ok: false, firstBreak: breaks[0] ?? null, breaks };
}
