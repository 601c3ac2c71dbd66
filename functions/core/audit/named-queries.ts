/**
 * Named audit queries, written in the SQL subset Athena (Trino, engine v3) and DuckDB both
 * accept (docs/audit.md lists the differences found). The CDK stack registers them as Athena
 * named queries (`sql(table)` with the Glue table or view name); the local CLI runs the very
 * same text on DuckDB.
 *
 * Parameters are positional `?` placeholders, bound in the order `params` lists them:
 * - Athena: `StartQueryExecution` with `ExecutionParameters` (each value an SQL literal, see
 *   {@link toAthenaExecutionParameters}); the console asks for the values when a saved query
 *   with `?` is run;
 * - DuckDB: prepared-statement binding (`queryAudit({ namedQuery, params })`);
 * - anywhere else: {@link renderNamedQuery} inlines safely quoted literals.
 *
 * Payload fields are read with `json_extract_scalar(payload, '$.field')` (Trino); the local
 * DuckDB database defines a `json_extract_scalar` macro over `json_extract_string`.
 */
import { ValidationError } from '../errors.js';

export { AUDIT_COLUMNS, AUDIT_VIEW_COLUMNS } from './table-schema.js';

/** One positional parameter of a named query. */
export interface NamedQueryParam {
  readonly name: string;
  readonly description: string;
}

/** A named query. `sql(table)` returns the statement for a table/view name. */
export interface NamedQuery {
  readonly name: string;
  readonly description: string;
  /** Positional `?` parameters, in order (empty when the query takes none). */
  readonly params: readonly NamedQueryParam[];
  readonly sql: (table: string) => string;
}

/** A value bound to a `?` placeholder. */
export type AuditSqlParam = string | number | boolean;

const j = (field: string): string => `json_extract_scalar(payload, '$.${field}')`;

/** The named queries; names are kebab-case and stable (the runbook refers to them). */
export const NAMED_QUERIES: readonly NamedQuery[] = [
  {
    name: 'cohort-decisions',
    description: 'Every audited decision about one cohort (subject.cohort_id), in time order.',
    params: [{ name: 'cohort_id', description: 'cohort id, e.g. 2024-01-02-a' }],
    sql: (t) =>
      [
        'SELECT ts, kind, actor, stream, seq, id,',
        '  subject.agent_id AS agent_id, subject.genome_id AS genome_id,',
        '  subject.promotion_id AS promotion_id, subject.order_id AS order_id, payload',
        `FROM ${t}`,
        'WHERE subject.cohort_id = ?',
        'ORDER BY ts, stream, seq',
      ].join('\n'),
  },
  {
    name: 'approvals-by-approver',
    description: 'Approval decisions taken by one approver (the actor, e.g. slack:U123).',
    params: [{ name: 'approver', description: 'actor identity, e.g. slack:U123' }],
    sql: (t) =>
      [
        'SELECT ts, actor AS approver, subject.promotion_id AS promotion_id,',
        `  ${j('decision')} AS decision, ${j('reason')} AS reason, id`,
        `FROM ${t}`,
        "WHERE kind = 'approval_decided' AND actor = ?",
        'ORDER BY ts, id',
      ].join('\n'),
  },
  {
    name: 'approval-counts-by-approver',
    description: 'Per approver: decisions taken, approved, rejected, expired, first and last.',
    params: [],
    sql: (t) =>
      [
        'SELECT actor AS approver, count(*) AS decisions,',
        `  count(*) FILTER (WHERE ${j('decision')} = 'approved') AS approved,`,
        `  count(*) FILTER (WHERE ${j('decision')} = 'rejected') AS rejected,`,
        `  count(*) FILTER (WHERE ${j('decision')} = 'expired') AS expired,`,
        '  min(ts) AS first_ts, max(ts) AS last_ts',
        `FROM ${t}`,
        "WHERE kind = 'approval_decided'",
        'GROUP BY actor',
        'ORDER BY actor',
      ].join('\n'),
  },
  {
    name: 'gate-failure-rate-by-day',
    description:
      'Per UTC day and gate: evaluations, failures, not judged (too little to judge yet; ' +
      'does not block, never a pass) and the failure rate among the judged evaluations ' +
      '(fraction; null when none was judged).',
    params: [],
    sql: (t) =>
      [
        `SELECT dt AS day, ${j('gate')} AS gate, count(*) AS evaluations,`,
        `  count(*) FILTER (WHERE ${j('verdict')} = 'fail') AS failures,`,
        `  count(*) FILTER (WHERE ${j('verdict')} = 'not_judged') AS not_judged,`,
        `  CAST(count(*) FILTER (WHERE ${j('verdict')} = 'fail') AS DOUBLE) /`,
        `    NULLIF(count(*) FILTER (WHERE ${j('verdict')} <> 'not_judged'), 0) AS failure_rate`,
        `FROM ${t}`,
        "WHERE kind = 'gate_evaluated'",
        `GROUP BY dt, ${j('gate')}`,
        'ORDER BY day, gate',
      ].join('\n'),
  },
  {
    name: 'orders-vs-fills',
    description:
      'Per client_order_id: submitted vs filled quantity (shares), last status, unfilled and ' +
      'duplicate submissions; the basis of order reconciliation.',
    params: [],
    sql: (t) =>
      [
        `SELECT ${j('client_order_id')} AS client_order_id,`,
        `  max(${j('symbol')}) FILTER (WHERE kind = 'order_submitted') AS symbol,`,
        `  max(${j('side')}) FILTER (WHERE kind = 'order_submitted') AS side,`,
        "  count(*) FILTER (WHERE kind = 'order_submitted') AS submissions,",
        `  max(CAST(${j('qty')} AS DOUBLE)) FILTER (WHERE kind = 'order_submitted') AS submitted_qty,`,
        `  coalesce(max(CAST(${j('filled_qty')} AS DOUBLE)) FILTER (WHERE kind = 'order_status_changed'), 0) AS filled_qty,`,
        // seq, not ts: two changes of one order can share a millisecond (a fill right after `new`);
        // both are on the order's stream, whose seq orders them.
        `  max_by(${j('status')}, seq) FILTER (WHERE kind = 'order_status_changed') AS last_status,`,
        `  max(CAST(${j('qty')} AS DOUBLE)) FILTER (WHERE kind = 'order_submitted')`,
        `    - coalesce(max(CAST(${j('filled_qty')} AS DOUBLE)) FILTER (WHERE kind = 'order_status_changed'), 0) AS unfilled_qty`,
        `FROM ${t}`,
        "WHERE kind IN ('order_submitted', 'order_status_changed')",
        `GROUP BY ${j('client_order_id')}`,
        'ORDER BY client_order_id',
      ].join('\n'),
  },
  {
    name: 'kill-switch-history',
    description: 'Every kill-switch change (engaged true/false), newest first.',
    params: [],
    sql: (t) =>
      [
        `SELECT ts, actor, CAST(${j('engaged')} AS BOOLEAN) AS engaged,`,
        `  ${j('scope')} AS scope, ${j('reason')} AS reason, id`,
        `FROM ${t}`,
        "WHERE kind = 'kill_switch_changed'",
        'ORDER BY ts DESC, id DESC',
      ].join('\n'),
  },
  {
    name: 'rejected-inputs-by-day',
    description: 'Per UTC day and source: inputs rejected by validation.',
    params: [],
    sql: (t) =>
      [
        `SELECT dt AS day, ${j('source')} AS source, count(*) AS rejected`,
        `FROM ${t}`,
        "WHERE kind = 'input_rejected'",
        `GROUP BY dt, ${j('source')}`,
        'ORDER BY day, source',
      ].join('\n'),
  },
  {
    name: 'stream-history',
    description: 'One hash-chain stream in seq order (follow-up to a failed verify).',
    params: [{ name: 'stream', description: 'stream id, e.g. execution:abc' }],
    sql: (t) =>
      [
        'SELECT seq, ts, kind, actor, id, prev_hash, hash, payload',
        `FROM ${t}`,
        'WHERE stream = ?',
        'ORDER BY seq',
      ].join('\n'),
  },
];

/**
 * Looks a named query up by name.
 *
 * @throws ValidationError (field `namedQuery`) when no query has that name.
 */
export function getNamedQuery(name: string): NamedQuery {
  const q = NAMED_QUERIES.find((n) => n.name === name);
  if (!q) {
    throw new ValidationError(
      'namedQuery',
      `unknown named query "${name}"; known: ${NAMED_QUERIES.map((n) => n.name).join(', ')}`,
    );
  }
  return q;
}

/**
 * The SQL literal for a parameter value: strings single-quoted with `'` doubled, finite
 * numbers as JS prints them, booleans as TRUE/FALSE. Valid in Trino and DuckDB.
 *
 * @throws ValidationError for non-finite numbers or strings containing NUL.
 */
export function sqlLiteral(value: AuditSqlParam): string {
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError('param', 'number must be finite');
    return String(value);
  }
  if (value.includes('\u0000')) throw new ValidationError('param', 'string contains NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/** Positions of the `?` placeholders outside string literals and quoted identifiers. */
function placeholderPositions(sql: string): number[] {
  const out: number[] = [];
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < sql.length; i += 1) {
    const ch = sql[i];
    if (quote !== null) {
      if (ch === quote) {
        if (sql[i + 1] === quote) i += 1;
        else quote = null;
      }
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out.push(i);
    }
  }
  return out;
}

/** Number of `?` placeholders in an SQL text (outside quotes). */
export function countPlaceholders(sql: string): number {
  return placeholderPositions(sql).length;
}

/**
 * Resolves named-query parameters given by name into positional values.
 *
 * @throws ValidationError (field `params.<name>`) when a parameter is missing, or (field
 *   `params`) when an unknown one is given.
 */
export function positionalParams(
  query: NamedQuery,
  params: Readonly<Record<string, AuditSqlParam>> = {},
): AuditSqlParam[] {
  const known = new Set(query.params.map((p) => p.name));
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ValidationError('params', `${query.name} takes no parameter ${unknown.join(', ')}`);
  }
  return query.params.map((p) => {
    const v = params[p.name];
    if (v === undefined) throw new ValidationError(`params.${p.name}`, p.description);
    return v;
  });
}

/**
 * Athena `ExecutionParameters` for a named query: the values as SQL literals, in order.
 *
 * @throws ValidationError as {@link positionalParams} and {@link sqlLiteral}.
 */
export function toAthenaExecutionParameters(
  query: NamedQuery,
  params: Readonly<Record<string, AuditSqlParam>> = {},
): string[] {
  return positionalParams(query, params).map(sqlLiteral);
}

/**
 * The SQL text of an SQL statement with its `?` placeholders replaced by quoted literals (for
 * consoles that cannot bind parameters).
 *
 * @throws ValidationError (field `params`) when the number of values differs from the number
 *   of placeholders.
 */
export function inlineParams(sql: string, values: readonly AuditSqlParam[]): string {
  const positions = placeholderPositions(sql);
  if (positions.length !== values.length) {
    throw new ValidationError(
      'params',
      `statement has ${positions.length} placeholder(s), ${values.length} value(s) given`,
    );
  }
  let out = '';
  let from = 0;
  positions.forEach((pos, i) => {
    out += sql.slice(from, pos) + sqlLiteral(values[i] as AuditSqlParam);
    from = pos + 1;
  });
  return out + sql.slice(from);
}

/**
 * A named query's SQL for `table` with its parameters inlined as literals.
 *
 * @throws ValidationError as {@link positionalParams}.
 */
export function renderNamedQuery(
  query: NamedQuery,
  table: string,
  params: Readonly<Record<string, AuditSqlParam>> = {},
): string {
  return inlineParams(query.sql(table), positionalParams(query, params));
}
