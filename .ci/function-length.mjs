// Function-length check, run by `npm run check`: no function, method, constructor or arrow
// function in the shipped code (functions/, lib/, local/, bin/) may span more than
// MAX_LINES non-blank lines (signature to closing brace; a nested function counts in its
// parent too), unless it is listed in .ci/function-length-exceptions.json with its reason
// and a ceiling it may not grow past. A listed function that no longer needs its entry
// (gone, or back under the limit) fails the check too, so the list only shrinks.
//
// Biome 2 has a rule for this (complexity/noExcessiveLinesPerFunction), but it takes
// exceptions only as inline suppression comments or whole-file overrides; this check keeps
// the exceptions in one reviewed file, per function, with a ceiling. Tests and benches are
// not checked: their describe() callbacks are lists of cases.
//
// Usage: node .ci/function-length.mjs [--list]  (--list prints every function over the limit)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const MAX_LINES = 80;
const ROOTS = ['functions', 'lib', 'local', 'bin'];
const root = new URL('..', import.meta.url).pathname;

/** The `.ts` files under `dir`, recursively (no declaration files). */
function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function isFunctionLike(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

/**
 * The called name of a call, with the first string argument found along its call chain:
 * `command('run')….action` for `program.command('run').description('…').action(cb)`.
 */
function calleeName(call, sf) {
  const callee = call.expression;
  const own = ts.isPropertyAccessExpression(callee) ? callee.name.text : callee.getText(sf);
  let label = null;
  for (let e = callee; e; ) {
    if (ts.isCallExpression(e)) {
      const first = e.arguments[0];
      if (first && ts.isStringLiteralLike(first) && ts.isPropertyAccessExpression(e.expression)) {
        label = `${e.expression.name.text}('${first.text}')`;
      }
      e = e.expression;
    } else if (ts.isPropertyAccessExpression(e)) e = e.expression;
    else e = null;
  }
  const first = call.arguments[0];
  if (!label && first && ts.isStringLiteralLike(first)) return `${own}('${first.text}')`;
  return label ? `${label}….${own}` : own;
}

/** A readable name: `name`, `Class.method`, `Class.constructor`, or `<callee> callback`. */
function nameOf(node, sf) {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) {
    return parent.name.getText(sf);
  }
  if (ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  if (ts.isCallExpression(parent)) return `${calleeName(parent, sf)} callback`;
  return 'anonymous';
}

/**
 * Every function-like node of one source text with its non-blank line count.
 *
 * @param fileName used for parsing only.
 * @returns `[{ name, line, lines }]`; `name` qualifies methods and nested functions with their
 *   class / enclosing function (`Outer > inner`), `line` is 1-based.
 */
export function measureFunctions(text, fileName = 'x.ts') {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines = text.split('\n');
  const out = [];
  const visit = (node, scope) => {
    let next = scope;
    if (ts.isClassDeclaration(node) && node.name) {
      next = scope ? `${scope} > ${node.name.text}` : node.name.text;
    } else if (isFunctionLike(node)) {
      const own = nameOf(node, sf);
      next = !scope ? own : ts.isClassLike(node.parent) ? `${scope}.${own}` : `${scope} > ${own}`;
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      let count = 0;
      for (let i = start; i <= end; i++) if ((lines[i] ?? '').trim() !== '') count++;
      out.push({ name: next, line: start + 1, lines: count });
    }
    ts.forEachChild(node, (child) => visit(child, next));
  };
  visit(sf, '');
  return out;
}

/** The check over the repository: `{ over, violations, stale }`. */
export function checkRepository(exceptions) {
  const over = [];
  for (const dir of ROOTS) {
    for (const file of sourceFiles(join(root, dir))) {
      const path = relative(root, file);
      for (const f of measureFunctions(readFileSync(file, 'utf8'), path)) {
        if (f.lines > MAX_LINES) over.push({ path, ...f });
      }
    }
  }
  const byKey = new Map(exceptions.map((e) => [`${e.path}#${e.function}`, e]));
  const violations = [];
  const used = new Set();
  for (const f of over) {
    const key = `${f.path}#${f.name}`;
    const exception = byKey.get(key);
    if (exception && f.lines <= exception.maxLines) {
      used.add(key);
      continue;
    }
    violations.push(
      exception
        ? `${f.path}:${f.line} ${f.name}: ${f.lines} lines, above its exception's ceiling of ${exception.maxLines}`
        : `${f.path}:${f.line} ${f.name}: ${f.lines} non-blank lines > ${MAX_LINES}`,
    );
  }
  const overKeys = new Set(over.map((f) => `${f.path}#${f.name}`));
  const stale = [...byKey.keys()].filter((k) => !overKeys.has(k));
  return { over, violations, stale };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = join(root, '.ci/function-length-exceptions.json');
  const { exceptions } = JSON.parse(readFileSync(file, 'utf8'));
  for (const e of exceptions) {
    if (!e.path || !e.function || !(e.maxLines > MAX_LINES) || !e.reason) {
      console.error(
        `.ci/function-length-exceptions.json: entry ${JSON.stringify(e)} needs path, function, maxLines > ${MAX_LINES} and reason`,
      );
      process.exit(2);
    }
  }
  const { over, violations, stale } = checkRepository(exceptions);
  if (process.argv.includes('--list')) {
    for (const f of over.sort((a, b) => b.lines - a.lines))
      console.log(`${f.lines}\t${f.path}#${f.name}`);
  }
  for (const v of violations) console.error(`function-length: ${v}`);
  for (const s of stale) {
    console.error(
      `function-length: ${s} is listed in .ci/function-length-exceptions.json but is no longer over ${MAX_LINES} lines (or is gone): remove the entry`,
    );
  }
  if (violations.length > 0 || stale.length > 0) process.exit(1);
  console.log(
    `function-length: no function over ${MAX_LINES} non-blank lines beyond the ${exceptions.length} listed exceptions`,
  );
}
