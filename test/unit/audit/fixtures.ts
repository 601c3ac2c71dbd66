/**
 * Test fixtures for the audit tests: valid drafts and hash-chained records built with a fixed
 * clock and a deterministic PRNG (so ids are reproducible).
 */
import { monotonicFactory } from 'ulid';
import { auditObjectKey } from '../../../functions/core/audit/keys.js';
import type { AuditDraft, AuditRecord, StreamHead } from '../../../functions/core/audit/record.js';
import { chainRecord, toAuditTs } from '../../../functions/core/audit/record.js';
import type { VerifyInput } from '../../../functions/core/audit/verify.js';

export const T0 = Date.UTC(2024, 2, 4, 14, 30, 0);

/** Deterministic [0, 1) sequence (mulberry32). */
export function seededPrng(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A valid `gate_evaluated` draft; `overrides` replace fields as given, unchecked, so a test can
 * build the invalid drafts an untyped caller could send.
 */
export function gateDraft(overrides: Readonly<Record<string, unknown>> = {}): AuditDraft {
  const valid: AuditDraft = {
    kind: 'gate_evaluated',
    actor: 'stagegate/evaluate-gates',
    stream: 'promotion:p-1',
    environment: 'local',
    subject: { cohort_id: 'c-1', promotion_id: 'p-1' },
    payload: {
      gate: 'max-drawdown',
      verdict: 'pass',
      observed: 0.02,
      threshold: 0.05,
      reason: 'ok',
    },
  };
  return { ...valid, ...overrides } as AuditDraft;
}

/** `n` records of one stream, one minute apart, correctly chained. */
export function chain(n: number, stream = 'promotion:p-1', start = T0): AuditRecord[] {
  const next = monotonicFactory(seededPrng(n));
  const out: AuditRecord[] = [];
  let head: StreamHead | null = null;
  for (let i = 0; i < n; i += 1) {
    const now = start + i * 60_000;
    const rec = chainRecord(
      gateDraft({
        stream,
        payload: {
          gate: `g${i}`,
          verdict: i % 2 ? 'fail' : 'pass',
          observed: i,
          threshold: 3,
          reason: `r${i}`,
        },
      }),
      head,
      next(now),
      toAuditTs(now),
    );
    out.push(rec);
    head = { seq: rec.seq, hash: rec.hash };
  }
  return out;
}

/** Records as verify inputs with their S3 keys. */
export function withKeys(records: readonly AuditRecord[]): VerifyInput[] {
  return records.map((record) => ({
    record: structuredClone(record),
    key: auditObjectKey(record),
  }));
}
