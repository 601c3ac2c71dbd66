/**
 * HTML escaping for the run report. Every string that comes from data (agent ids, symbols,
 * gate reasons, order ids, the title...) goes through {@link escapeHtml} before it is placed in
 * the document, both in text and in quoted attribute values.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escapes `value` for HTML text and for single- or double-quoted attribute values (inline SVG
 * included): `& < > " ' \`` become character references, and C0 control characters other
 * than tab, line feed and carriage return (which HTML forbids) become U+FFFD. Numbers and
 * booleans are stringified first; `null`/`undefined` give an empty string.
 *
 * Follows the OWASP XSS Prevention Cheat Sheet, rule #1 (HTML entity encoding). Never use the
 * result inside `<script>`, `<style>`, an unquoted attribute or a URL attribute.
 */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  return (
    String(value)
      .replace(/[&<>"'`]/g, (c) => ENTITIES[c] as string)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD')
  );
}
