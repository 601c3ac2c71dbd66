/**
 * The function-length check (.ci/function-length.mjs, run by `npm run check`): how it names
 * and measures functions, which is what its exceptions file is keyed on.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the CI tooling, without type declarations
import { MAX_LINES, measureFunctions } from '../../../.ci/function-length.mjs';

interface Measured {
  readonly name: string;
  readonly line: number;
  readonly lines: number;
}

const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('function-length check', () => {
  it('counts non-blank lines from the signature to the closing brace', () => {
    // Prepare
    const text = `/** doc */\nexport function f() {\n${body(3)}\n\n\n  return 1;\n}\n`;

    // Act
    const [f] = measureFunctions(text) as Measured[];

    // Assess
    expect(f).toEqual({ name: 'f', line: 2, lines: 6 });
  });

  it('names methods, constructors, arrow constants, nested functions and callbacks', () => {
    // Prepare
    const text = [
      'class Box {',
      '  constructor() {}',
      '  open() { const inner = () => 1; return inner(); }',
      '}',
      'export const arrow = () => 2;',
      "program.command('run').description('x').action(() => 3);",
    ].join('\n');

    // Act
    const names = (measureFunctions(text) as Measured[]).map((m) => m.name);

    // Assess
    expect(names).toEqual([
      'Box.constructor',
      'Box.open',
      'Box.open > inner',
      'arrow',
      "command('run')….action callback",
    ]);
  });

  it('flags a function one line over the limit and not one at it', () => {
    // Prepare
    const at = `function ok() {\n${body(MAX_LINES - 2)}\n}`;
    const over = `function long() {\n${body(MAX_LINES - 1)}\n}`;

    // Act
    const measured = measureFunctions(`${at}\n${over}`) as Measured[];

    // Assess
    expect(measured.map((m) => [m.name, m.lines > MAX_LINES])).toEqual([
      ['ok', false],
      ['long', true],
    ]);
  });
});
