import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auditObjectKey,
  deadLetterKey,
  decodeStreamSegment,
  encodeStreamSegment,
  parquetKey,
  parseAuditObjectKey,
} from '../../../functions/core/audit/keys.js';
import {
  countPlaceholders,
  getNamedQuery,
  inlineParams,
  NAMED_QUERIES,
  renderNamedQuery,
  sqlLiteral,
  toAthenaExecutionParameters,
} from '../../../functions/core/audit/named-queries.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { chain } from './fixtures.js';

describe('audit keys', () => {
  it('lays a record out as audit/env/dt/hour/stream/seq-id.jsonl', () => {
    // Prepare
    const rec = chain(1, 'execution:abc_1')[0]!;
    // Act
    const key = auditObjectKey(rec);
    // Assess
    expect(key).toBe(
      `audit/env=local/dt=2024-03-04/hour=14/execution_3Aabc_5F1/0000000000-${rec.id}.jsonl`,
    );
    expect(parseAuditObjectKey(key)).toEqual({
      environment: 'local',
      dt: '2024-03-04',
      hour: '14',
      stream: 'execution:abc_1',
      seq: 0,
      id: rec.id,
    });
  });

  it('names dead letters and Parquet parts by day', () => {
    // Act
    const dl = deadLetterKey('prod', '2024-03-04T23:59:59.999Z', '01HRQ3V0F8X8Z7Y6W5V4T3S2R1');
    const pq = parquetKey('prod', '2024-03-04');
    // Assess
    expect(dl).toBe('audit-dead-letter/env=prod/dt=2024-03-04/01HRQ3V0F8X8Z7Y6W5V4T3S2R1.json');
    expect(pq).toBe('audit-parquet/env=prod/dt=2024-03-04/part-0000.parquet');
  });

  it('encodes any stream id reversibly into safe characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (stream) => {
        // Act
        const segment = encodeStreamSegment(stream);
        // Assess
        expect(segment).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(decodeStreamSegment(segment)).toBe(stream);
      }),
    );
  });

  it('rejects keys that do not follow the layout', () => {
    // Act
    const parsed = [
      'audit/env=local/dt=2024-03-04/hour=14/x/0-01HRQ3V0F8X8Z7Y6W5V4T3S2R1.jsonl',
      'audit/env=qa/dt=2024-03-04/hour=14/x/0000000000-01HRQ3V0F8X8Z7Y6W5V4T3S2R1.jsonl',
      'audit/env=local/dt=2024-03-04/hour=14/x_zz/0000000000-01HRQ3V0F8X8Z7Y6W5V4T3S2R1.jsonl',
    ].map(parseAuditObjectKey);
    // Assess
    expect(parsed).toEqual([null, null, null]);
  });
});

describe('named queries', () => {
  it('covers the audit questions the runbook asks', () => {
    // Act
    const names = NAMED_QUERIES.map((q) => q.name);
    // Assess
    expect(names).toEqual(
      expect.arrayContaining([
        'cohort-decisions',
        'approvals-by-approver',
        'gate-failure-rate-by-day',
        'orders-vs-fills',
        'kill-switch-history',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(NAMED_QUERIES.map((q) => [q.name, q] as const))(
    '%s has one placeholder per declared parameter and only portable SQL',
    (_name, query) => {
      // Act
      const sql = query.sql('stagegate_audit.audit');
      // Assess
      expect(countPlaceholders(sql)).toBe(query.params.length);
      expect(sql).toContain('FROM stagegate_audit.audit');
      expect(sql).not.toMatch(/json_extract_string|->>|QUALIFY|ILIKE|arg_max|strftime|::/i);
    },
  );

  it('quotes literals safely for Athena execution parameters and inlining', () => {
    // Prepare
    const q = getNamedQuery('cohort-decisions');
    // Act
    const params = toAthenaExecutionParameters(q, { cohort_id: "c'1; DROP TABLE x" });
    const sql = renderNamedQuery(q, 'audit', { cohort_id: "c'1" });
    // Assess
    expect(params).toEqual(["'c''1; DROP TABLE x'"]);
    expect(sql).toContain("subject.cohort_id = 'c''1'");
    expect(countPlaceholders(sql)).toBe(0);
  });

  it('ignores question marks inside string literals', () => {
    // Act
    const sql = inlineParams('SELECT \'?\' AS q, "a?" FROM t WHERE x = ?', [true]);
    // Assess
    expect(sql).toBe('SELECT \'?\' AS q, "a?" FROM t WHERE x = TRUE');
  });

  it('refuses a missing or unknown parameter and an unknown query', () => {
    // Prepare
    const q = getNamedQuery('approvals-by-approver');
    // Act
    const missing = () => renderNamedQuery(q, 'audit');
    const unknown = () => renderNamedQuery(q, 'audit', { approver: 'slack:U1', extra: 1 });
    const noQuery = () => getNamedQuery('drop-everything');
    const nan = () => sqlLiteral(Number.NaN);
    // Assess
    expect(missing).toThrow(ValidationError);
    expect(unknown).toThrow(ValidationError);
    expect(noQuery).toThrow(ValidationError);
    expect(nan).toThrow(ValidationError);
  });
});
