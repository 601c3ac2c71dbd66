/**
 * CSV rendering for the console's exports (RFC 4180: comma separated, CRLF line ends, a
 * field quoted when it holds a comma, quote, CR or LF, quotes doubled). A text field that
 * starts with `=`, `+`, `-`, `@`, TAB or CR is prefixed with `'` so a spreadsheet never
 * evaluates it as a formula (OWASP "CSV injection"); numbers are written as numbers.
 */

/** A cell: text, a finite number, a boolean, or empty (null/undefined). */
export type CsvCell = string | number | boolean | null | undefined;

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV text of a header row and data rows (each row as long as the header). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(header.map((_, i) => cell(row[i])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
