/**
 * The compact encoding of one page of leaderboard rows in the cohort table.
 *
 * A page used to be a DynamoDB list of maps (`rows`): about 17 number attributes per agent,
 * 17,000 per 1,000-agent cohort-day, each one parsed, encoded as a decimal and stored by the
 * database (DynamoDB Local spent most of its CPU there: BigDecimal and JSON). A page is now one
 * binary attribute, `data`: gzip of the JSON document `{ "columns": [field, ...], "rows":
 * [[value, ...], ...] }` (columnar, so field names are written once per page; a field a row
 * does not have is `null`), tagged `format: "agent-rows/1"`. Numbers keep their exact double
 * value (JSON round-trips every finite double); every decoded row is validated with
 * `AgentRowSchema`. The column names travel with the data, so a field added to `AgentRow`
 * later needs no new format; a page in a format this code does not know (written by newer
 * code), or one that does not decode, is refused with {@link CohortRecordCorruptError} naming
 * the page, never read as an empty or partial leaderboard.
 *
 * Measured (`run --agents 1000 --days 3 --no-promote`, whole process tree, paired runs at a
 * load of ~23 on 2 cores, 2026-12-05): DynamoDB Local's JVM 7.0 / 8.4 -> 4.4 CPU-s with this
 * format alone (class-data sharing off), the whole command 17.5 / 20.1 -> 12.7 CPU-s.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { CohortRecordCorruptError } from '../../core/errors.js';
import { type AgentRow, AgentRowSchema } from '../../core/use-cases/cohort-records.js';

/** Format tag of a page written by {@link encodeAgentPage}. */
export const AGENT_PAGE_FORMAT = 'agent-rows/1';

const COLUMNS = Object.keys(AgentRowSchema.shape) as readonly (keyof AgentRow)[];

/**
 * Most bytes a page may inflate to (8 MiB; a page of 100 rows is ~50 KB of JSON): a corrupt or
 * hostile item is refused instead of exhausting the function's memory.
 */
export const MAX_AGENT_PAGE_JSON_BYTES = 8 * 1024 * 1024;

/** The decoded document of a page: column names, and one array of values per row. */
const AgentPageDocumentSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())),
});

/** The attributes of one compact page: `{ format, data }` (data: gzip bytes). */
export function encodeAgentPage(rows: readonly AgentRow[]): {
  format: string;
  data: Uint8Array;
} {
  const values = rows.map((r) => COLUMNS.map((c) => r[c] ?? null));
  const json = JSON.stringify({ columns: COLUMNS, rows: values });
  return { format: AGENT_PAGE_FORMAT, data: gzipSync(json, { level: 6 }) };
}

/**
 * The rows of a stored page item `{ sk, format, data }`, validated.
 *
 * @throws CohortRecordCorruptError an unknown `format`, bytes that are not gzip JSON, JSON
 *   that inflates past {@link MAX_AGENT_PAGE_JSON_BYTES} or is not of the documented shape
 *   (zod), or a row that fails `AgentRowSchema` (the message names `sk`).
 */
export function decodeAgentPage(cohortId: string, item: Record<string, unknown>): AgentRow[] {
  const where = `agent page ${String(item.sk)}`;
  if (item.format !== AGENT_PAGE_FORMAT) {
    throw new CohortRecordCorruptError(
      cohortId,
      `${where} has format ${JSON.stringify(item.format)}; this version reads ${AGENT_PAGE_FORMAT} (written by newer code?)`,
    );
  }
  if (!(item.data instanceof Uint8Array)) {
    throw new CohortRecordCorruptError(cohortId, `${where} has no binary data attribute`);
  }
  let json: unknown;
  try {
    json = JSON.parse(
      gunzipSync(item.data, { maxOutputLength: MAX_AGENT_PAGE_JSON_BYTES }).toString('utf8'),
    );
  } catch (err) {
    throw new CohortRecordCorruptError(
      cohortId,
      `${where} does not decode: ${(err as Error).message}`,
    );
  }
  const doc = AgentPageDocumentSchema.safeParse(json);
  if (!doc.success) {
    const issue = doc.error.issues[0];
    throw new CohortRecordCorruptError(
      cohortId,
      `${where} is not a page document: ${issue?.path.join('.') || 'document'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  const { columns, rows } = doc.data;
  return rows.map((values, i) => {
    if (values.length !== columns.length) {
      throw new CohortRecordCorruptError(
        cohortId,
        `${where} row ${i} has ${values.length} values for ${columns.length} columns`,
      );
    }
    const row: Record<string, unknown> = {};
    for (const [j, c] of columns.entries()) if (values[j] !== null) row[c] = values[j];
    const parsed = AgentRowSchema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CohortRecordCorruptError(
        cohortId,
        `${where} row ${i}: ${issue?.path.join('.') || 'row'} ${issue?.message ?? 'is invalid'}`,
      );
    }
    return parsed.data;
  });
}
