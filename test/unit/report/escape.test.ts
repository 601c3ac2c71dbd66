import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../../functions/core/report/escape.js';

/** C0 controls other than tab, LF, CR, plus DEL (built from code points: no literal controls). */
const CONTROL = new RegExp(
  `[${[
    [0, 8],
    [11, 12],
    [14, 31],
    [127, 127],
  ]
    .map(([a, b]) => `\\u${hex(a as number)}-\\u${hex(b as number)}`)
    .join('')}]`,
  'g',
);

function hex(code: number): string {
  return code.toString(16).padStart(4, '0');
}

/** Reverses the five entities and the backtick (what a browser's HTML parser does). */
function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');
}

describe('escapeHtml', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"><img src=x onerror=alert(1)>', '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'],
    ["' onmouseover='x", '&#39; onmouseover=&#39;x'],
    ['`x`', '&#96;x&#96;'],
    ['AT&T', 'AT&amp;T'],
    ['&amp;', '&amp;amp;'],
    ['</svg><svg onload=alert(1)>', '&lt;/svg&gt;&lt;svg onload=alert(1)&gt;'],
    ['a\u0000b\u0007c\td\ne', 'a\uFFFDb\uFFFDc\td\ne'],
    ['SPY', 'SPY'],
    ['', ''],
  ])('escapes %j', (hostile, expected) => {
    // Act
    const out = escapeHtml(hostile);

    // Assess
    expect(out).toBe(expected);
  });

  it('stringifies numbers and booleans and maps null/undefined to an empty string', () => {
    // Act / Assess
    expect(escapeHtml(12.5)).toBe('12.5');
    expect(escapeHtml(false)).toBe('false');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
  });

  it('never lets a markup or quote character through, and is reversible', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
        // Act
        const out = escapeHtml(s);

        // Assess
        expect(out).not.toMatch(/[<>"'`]/);
        expect(out).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;|#96;)/);
        expect(decodeEntities(out)).toBe(s.replace(CONTROL, '\uFFFD'));
      }),
    );
  });
});
