/**
 * Provenance in every record (docs/audit.md#provenance): the writer's code version stamped by
 * chainRecord, and a decision's config/data hashes, so a change of thresholds or inputs between
 * two decisions shows in the trail and is covered by the record hash.
 */
import { describe, expect, it } from 'vitest';
import { CODE_VERSION } from '../../../functions/config/code-version.js';
import {
  canonicalJson,
  chainRecord,
  decisionProvenance,
  hashRecord,
  sha256Hex,
} from '../../../functions/core/audit/record.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { gateDraft } from './fixtures.js';

const ID = '01HRQ3V0F8X8Z7Y6W5V4T3S2R1';
const TS = '2024-03-04T14:30:00.000Z';
const payloadOf = (r: { payload: string }) =>
  JSON.parse(r.payload) as { provenance?: Record<string, string> };

describe('code version in every record', () => {
  it('is baked into the test build like into the Lambda and CLI bundles (not "unbuilt")', () => {
    // Assess
    expect(CODE_VERSION).not.toBe('unbuilt');
    expect(CODE_VERSION.length).toBeGreaterThan(0);
  });

  it('chainRecord stamps payload.provenance.code_version, inside the hash', () => {
    // Act
    const record = chainRecord(gateDraft(), null, ID, TS, 'abc123def456');
    // Assess
    expect(payloadOf(record).provenance).toEqual({ code_version: 'abc123def456' });
    expect(hashRecord(record)).toBe(record.hash);
    const other = chainRecord(gateDraft(), null, ID, TS, 'abc123def457');
    expect(other.hash).not.toBe(record.hash);
  });

  it("keeps a decision's config/data hashes next to the code version", () => {
    // Prepare
    const provenance = decisionProvenance({ maxDrawdown: 0.1 }, { returns: [0.01] });
    const draft = gateDraft({ payload: { ...gateDraft().payload, provenance } });
    // Act
    const record = chainRecord(draft, null, ID, TS, 'v1');
    // Assess
    expect(payloadOf(record).provenance).toEqual({ ...provenance, code_version: 'v1' });
  });

  it('refuses a provenance that is not one (a malformed hash)', () => {
    // Prepare
    const draft = gateDraft({
      payload: { ...gateDraft().payload, provenance: { config_hash: 'not-a-hash' } },
    });
    // Act / Assess
    expect(() => chainRecord(draft, null, ID, TS, 'v1')).toThrow(ValidationError);
  });
});

describe('decisionProvenance', () => {
  it('is the SHA-256 of the canonical JSON of the config and of the data', () => {
    // Prepare
    const config = { b: 2, a: { y: 1, x: 0.5 } };
    const data = [{ t: 1, v: null }];
    // Act
    const p = decisionProvenance(config, data);
    // Assess
    expect(p.config_hash).toBe(sha256Hex(canonicalJson(config)));
    expect(p.data_hash).toBe(sha256Hex(canonicalJson(data)));
  });

  it('does not depend on key order, and changes when one threshold changes', () => {
    // Act
    const a = decisionProvenance({ maxDrawdown: 0.1, minSharpe: 1 }, {});
    const b = decisionProvenance({ minSharpe: 1, maxDrawdown: 0.1 }, {});
    const c = decisionProvenance({ minSharpe: 1, maxDrawdown: 0.11 }, {});
    // Assess
    expect(a.config_hash).toBe(b.config_hash);
    expect(c.config_hash).not.toBe(a.config_hash);
  });

  it('hashes inputs JSON cannot hold (NaN, Infinity, undefined members) instead of failing', () => {
    // Act
    const p = decisionProvenance(
      {},
      { sharpe: Number.NaN, cap: Number.POSITIVE_INFINITY, u: undefined },
    );
    // Assess
    expect(p.data_hash).toBe(sha256Hex(canonicalJson({ sharpe: 'NaN', cap: 'Infinity' })));
  });
});
