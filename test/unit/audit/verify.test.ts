import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditObjectKey } from '../../../functions/core/audit/keys.js';
import type { AuditRecord } from '../../../functions/core/audit/record.js';
import { hashRecord } from '../../../functions/core/audit/record.js';
import { verifyChains } from '../../../functions/core/audit/verify.js';
import { chain, T0, withKeys } from './fixtures.js';

describe('verifyChains', () => {
  it('passes an untouched chain', () => {
    // Prepare
    const inputs = withKeys(chain(6));
    // Act
    const result = verifyChains(inputs);
    // Assess
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(6);
    expect(result.streams).toBe(1);
    expect(result.firstBreak).toBeNull();
  });

  it('passes untouched chains read in any order (property)', () => {
    // Prepare
    const records = [...chain(5, 'cohort:a'), ...chain(4, 'cohort:b', T0 + 1_000)];
    fc.assert(
      fc.property(fc.shuffledSubarray(withKeys(records), { minLength: 9 }), (shuffled) => {
        // Act
        const result = verifyChains(shuffled);
        // Assess
        expect(result.ok).toBe(true);
      }),
    );
  });

  it('fails on a changed field, naming the record and its key', () => {
    // Prepare
    const inputs = withKeys(chain(5));
    const victim = inputs[2]!.record as AuditRecord & { actor: string };
    victim.actor = 'slack:U999';
    // Act
    const result = verifyChains(inputs);
    // Assess
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toMatchObject({
      stream: 'promotion:p-1',
      seq: 2,
      id: victim.id,
      key: inputs[2]!.key,
      reason: 'hash-mismatch',
    });
  });

  it('fails on a changed payload even if the attacker recomputes that record hash', () => {
    // Prepare
    const inputs = withKeys(chain(5));
    const victim = inputs[1]!.record as AuditRecord & { payload: string; hash: string };
    victim.payload = '{"gate":"g1","observed":1,"reason":"r1","threshold":3,"verdict":"pass"}';
    victim.hash = hashRecord(victim);
    // Act
    const result = verifyChains(inputs);
    // Assess: the next record no longer links to it
    expect(result.firstBreak).toMatchObject({ seq: 2, reason: 'prev-hash-mismatch' });
  });

  it('fails on a deleted record, naming the seq that is missing', () => {
    // Prepare
    const inputs = withKeys(chain(5));
    inputs.splice(3, 1);
    // Act
    const result = verifyChains(inputs);
    // Assess
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toMatchObject({ seq: 4, reason: 'seq-gap' });
    expect(result.firstBreak?.detail).toContain('seq 3');
  });

  it('fails when the first record is deleted', () => {
    // Prepare
    const inputs = withKeys(chain(3)).slice(1);
    // Act
    const result = verifyChains(inputs);
    // Assess
    expect(result.firstBreak).toMatchObject({ seq: 1, reason: 'seq-gap' });
  });

  it('fails when two records are reordered (their seqs swapped)', () => {
    // Prepare
    const records = chain(5).map((r) => structuredClone(r));
    const [a, b] = [records[1]!, records[2]!];
    [records[1], records[2]] = [
      { ...b, seq: 1 },
      { ...a, seq: 2 },
    ];
    // Act
    const result = verifyChains(records.map((record) => ({ record })));
    // Assess
    expect(result.ok).toBe(false);
    expect(result.firstBreak).toMatchObject({ seq: 1, id: b.id, reason: 'hash-mismatch' });
  });

  it('fails when reordered records are re-hashed but links are left alone', () => {
    // Prepare
    const records = chain(5).map((r) => structuredClone(r));
    const [a, b] = [records[1]!, records[2]!];
    const b1 = { ...b, seq: 1 };
    const a2 = { ...a, seq: 2 };
    records[1] = { ...b1, hash: hashRecord(b1) };
    records[2] = { ...a2, hash: hashRecord(a2) };
    // Act
    const result = verifyChains(records.map((record) => ({ record })));
    // Assess
    expect(result.firstBreak).toMatchObject({ seq: 1, id: b.id, reason: 'prev-hash-mismatch' });
  });

  it('fails when two stored objects swap contents (record under the wrong key)', () => {
    // Prepare
    const inputs = withKeys(chain(5));
    const keys = inputs.map((i) => i.key);
    const swapped = inputs.map((i, n) => ({
      record: i.record,
      key: n === 1 ? keys[2] : n === 2 ? keys[1] : i.key,
    }));
    // Act
    const result = verifyChains(swapped);
    // Assess
    expect(result.firstBreak).toMatchObject({ seq: 1, key: keys[2], reason: 'key-mismatch' });
  });

  it('fails on two records with the same seq (a fork)', () => {
    // Prepare
    const records = chain(3);
    const forked = chain(3, 'promotion:p-1', T0 + 5)[2]!;
    // Act
    const result = verifyChains([...withKeys(records), ...withKeys([forked])]);
    // Assess
    expect(result.firstBreak).toMatchObject({ seq: 2, reason: 'duplicate-seq' });
  });

  it('reports a record that is not valid JSON record at all', () => {
    // Prepare
    const inputs = withKeys(chain(3));
    const broken = { key: inputs[1]!.key, record: 'not json' };
    // Act
    const result = verifyChains([inputs[0]!, broken, inputs[2]!]);
    // Assess
    expect(result.firstBreak).toMatchObject({ seq: 1, reason: 'invalid-record', key: broken.key });
    expect(result.breaks).toHaveLength(1);
  });

  it('detects a deleted tail only when given the stream heads', () => {
    // Prepare
    const records = chain(4);
    const last = records[3]!;
    const heads = new Map([[last.stream, { seq: last.seq, hash: last.hash }]]);
    const truncated = withKeys(records.slice(0, 3));
    // Act
    const withoutHeads = verifyChains(truncated);
    const withHeads = verifyChains(truncated, { heads });
    // Assess
    expect(withoutHeads.ok).toBe(true);
    expect(withHeads.firstBreak).toMatchObject({ seq: 2, reason: 'head-mismatch' });
  });

  it('checks a window of records from its first record on when partial', () => {
    // Prepare
    const inputs = withKeys(chain(6)).slice(2);
    // Act
    const partial = verifyChains(inputs, { partial: true });
    const whole = verifyChains(inputs);
    // Assess
    expect(partial.ok).toBe(true);
    expect(whole.ok).toBe(false);
  });

  it('orders breaks across streams by time, earliest first', () => {
    // Prepare
    const early = withKeys(chain(3, 'cohort:early', T0));
    const late = withKeys(chain(3, 'cohort:late', T0 + 3_600_000));
    (late[1]!.record as { actor: string }).actor = 'slack:UX';
    (early[2]!.record as { actor: string }).actor = 'slack:UY';
    // Act
    const result = verifyChains([...late, ...early]);
    // Assess
    expect(result.breaks.map((b) => b.stream)).toEqual(['cohort:early', 'cohort:late']);
    expect(result.firstBreak?.key).toBe(auditObjectKey(early[2]!.record as AuditRecord));
  });
});
