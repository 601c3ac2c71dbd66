import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auditDraftSchema,
  auditRecordSchema,
  canonicalJson,
  chainRecord,
  hashRecord,
  parseAuditDraft,
  sha256Hex,
  ZERO_HASH,
} from '../../../functions/core/audit/record.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { chain, gateDraft } from './fixtures.js';

const ID = '01HRQ3V0F8X8Z7Y6W5V4T3S2R1';
const TS = '2024-03-04T14:30:00.000Z';

describe('audit draft schema', () => {
  it('accepts a well-formed draft and fills nothing in yet', () => {
    // Prepare
    const draft = gateDraft();
    // Act
    const result = auditDraftSchema.safeParse(draft);
    // Assess
    expect(result.success).toBe(true);
  });

  it.each([
    ['missing kind', (d: Record<string, unknown>) => delete d.kind, 'audit.kind'],
    ['unknown kind', (d: Record<string, unknown>) => (d.kind = 'trade_made'), 'audit.kind'],
    [
      'payload is a string',
      (d: Record<string, unknown>) => (d.payload = '{"a":1}'),
      'audit.payload',
    ],
    ['payload is an array', (d: Record<string, unknown>) => (d.payload = [1, 2]), 'audit.payload'],
    ['payload is null', (d: Record<string, unknown>) => (d.payload = null), 'audit.payload'],
    [
      'payload holds NaN',
      (d: Record<string, unknown>) =>
        (d.payload = { ...(d.payload as object), observed: Number.NaN }),
      'audit.payload',
    ],
    [
      'unknown environment',
      (d: Record<string, unknown>) => (d.environment = 'qa'),
      'audit.environment',
    ],
    ['bad actor', (d: Record<string, unknown>) => (d.actor = 'Bob Smith'), 'audit.actor'],
    ['stream without type', (d: Record<string, unknown>) => (d.stream = 'p-1'), 'audit.stream'],
    ['extra top-level field', (d: Record<string, unknown>) => (d.hash = 'x'), 'audit'],
    [
      'gate verdict not pass/fail',
      (d: Record<string, unknown>) => (d.payload = { ...(d.payload as object), verdict: 'maybe' }),
      'audit.payload.verdict',
    ],
  ])('rejects a draft with %s, naming the field', (_label, mutate, field) => {
    // Prepare
    const draft = structuredClone(gateDraft()) as unknown as Record<string, unknown>;
    mutate(draft);
    // Act
    const act = () => parseAuditDraft(draft);
    // Assess
    expect(act).toThrow(ValidationError);
    expect(() => parseAuditDraft(draft)).toThrow(expect.objectContaining({ field }));
  });

  it('checks the input_rejected and cohort_scored payloads', () => {
    // Prepare
    const rejected = gateDraft({ kind: 'input_rejected', payload: { source: 'cli' } });
    const scored = gateDraft({
      kind: 'cohort_scored',
      payload: { session_date: '2024-03-04', agent_count: 12, bankroll: 10_000 },
    });
    // Act
    const rejectedResult = auditDraftSchema.safeParse(rejected);
    const scoredResult = auditDraftSchema.safeParse(scored);
    // Assess
    expect(rejectedResult.success).toBe(false);
    expect(scoredResult.success).toBe(true);
  });
});

describe('stored record schema', () => {
  const good = () => structuredClone(chain(1)[0]!) as unknown as Record<string, unknown>;

  it.each([
    ['missing kind', (r: Record<string, unknown>) => delete r.kind],
    ['unknown kind', (r: Record<string, unknown>) => (r.kind = 'nope')],
    ['ts without ms', (r: Record<string, unknown>) => (r.ts = '2024-03-04T14:30:00Z')],
    ['ts not a real date', (r: Record<string, unknown>) => (r.ts = '2024-02-30T14:30:00.000Z')],
    ['ts with offset', (r: Record<string, unknown>) => (r.ts = '2024-03-04T14:30:00.000+01:00')],
    ['payload as object', (r: Record<string, unknown>) => (r.payload = { a: 1 })],
    ['payload not a JSON object', (r: Record<string, unknown>) => (r.payload = '[1,2]')],
    ['payload not canonical', (r: Record<string, unknown>) => (r.payload = '{"b":1, "a":2}')],
    [
      'subject field absent',
      (r: Record<string, unknown>) => delete (r.subject as Record<string, unknown>).agent_id,
    ],
    ['seq negative', (r: Record<string, unknown>) => (r.seq = -1)],
    ['hash not hex', (r: Record<string, unknown>) => (r.hash = 'zz')],
    ['id not a ULID', (r: Record<string, unknown>) => (r.id = 'abc')],
    ['schema_version 2', (r: Record<string, unknown>) => (r.schema_version = 2)],
    ['extra field', (r: Record<string, unknown>) => (r.note = 'hi')],
  ])('rejects a record with %s', (_label, mutate) => {
    // Prepare
    const record = good();
    mutate(record);
    // Act
    const result = auditRecordSchema.safeParse(record);
    // Assess
    expect(result.success).toBe(false);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops whitespace', () => {
    // Prepare
    const value = { b: [3, { z: 1, a: 2 }], a: 'x', c: { y: null, x: true } };
    // Act
    const text = canonicalJson(value);
    // Assess
    expect(text).toBe('{"a":"x","b":[3,{"a":2,"z":1}],"c":{"x":true,"y":null}}');
  });

  it('prints numbers as JSON.stringify does (RFC 8785 number form)', () => {
    // Prepare
    const value = { n: [1e21, 1e-7, -0, 0.1 + 0.2, 100, 5e-324] };
    // Act
    const text = canonicalJson(value);
    // Assess
    expect(text).toBe('{"n":[1e+21,1e-7,0,0.30000000000000004,100,5e-324]}');
  });

  it('sorts keys by UTF-16 code units like RFC 8785', () => {
    // Prepare: the RFC 8785 section 3.2.3 ordering example
    const value = {
      '\u20ac': 'Euro',
      '\r': 'CR',
      '\ufb33': 'Hebrew',
      '1': 'One',
      '\ud83d\ude00': 'Smiley',
      '\u0080': 'Ctrl',
      '\u00f6': 'ö',
    };
    // Act
    const text = canonicalJson(value);
    // Assess: values in the order RFC 8785 lists them
    const order = [...text.matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(order).toEqual(['CR', 'One', 'Ctrl', 'ö', 'Euro', 'Smiley', 'Hebrew']);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['bigint', 1n],
    ['a Date', new Date(0)],
    ['undefined in an array', [1, undefined]],
    ['a function', () => 1],
  ])('rejects %s', (_label, value) => {
    // Act
    const act = () => canonicalJson({ v: value });
    // Assess
    expect(act).toThrow(ValidationError);
  });

  it('does not depend on key insertion order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (dict) => {
        // Prepare
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        // Act
        const a = canonicalJson(dict);
        const b = canonicalJson(reversed);
        // Assess
        expect(a).toBe(b);
        expect(JSON.parse(a)).toEqual(JSON.parse(JSON.stringify(dict)));
      }),
    );
  });
});

describe('chainRecord and hashRecord', () => {
  it('starts a stream at seq 0 with 64-zero prev_hash and a stable snake_case subject', () => {
    // Act
    const rec = chainRecord(gateDraft(), null, ID, TS);
    // Assess
    expect(rec.seq).toBe(0);
    expect(rec.prev_hash).toBe(ZERO_HASH);
    expect(rec.subject).toEqual({
      cohort_id: 'c-1',
      agent_id: null,
      genome_id: null,
      promotion_id: 'p-1',
      order_id: null,
      execution_id: null,
    });
    expect(rec.payload).toBe(
      '{"gate":"max-drawdown","observed":0.02,"reason":"ok","threshold":0.05,"verdict":"pass"}',
    );
  });

  it('links the next record to the head and hashes the record without its hash', () => {
    // Prepare
    const first = chainRecord(gateDraft(), null, ID, TS);
    // Act
    const second = chainRecord(gateDraft(), { seq: first.seq, hash: first.hash }, ID, TS);
    // Assess
    expect(second.seq).toBe(1);
    expect(second.prev_hash).toBe(first.hash);
    const { hash, ...rest } = second;
    expect(hash).toBe(sha256Hex(canonicalJson(rest)));
    expect(hashRecord(second)).toBe(hash);
  });

  it('gives the same hash whatever the payload key order', () => {
    // Prepare
    const a = gateDraft({
      payload: { gate: 'g', verdict: 'pass', observed: 1, threshold: 2, reason: 'r' },
    });
    const b = gateDraft({
      payload: { reason: 'r', threshold: 2, observed: 1, verdict: 'pass', gate: 'g' },
    });
    // Act
    const ha = chainRecord(a, null, ID, TS).hash;
    const hb = chainRecord(b, null, ID, TS).hash;
    // Assess
    expect(ha).toBe(hb);
  });

  it('rejects a bad ts or id given by the caller', () => {
    // Act
    const badTs = () => chainRecord(gateDraft(), null, ID, '2024-03-04 14:30');
    const badId = () => chainRecord(gateDraft(), null, 'not-a-ulid', TS);
    // Assess
    expect(badTs).toThrow(ValidationError);
    expect(badId).toThrow(ValidationError);
  });
});
