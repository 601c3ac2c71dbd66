/**
 * docs/claims.md names, for each claim of README.md and docs/, the test or npm script that
 * checks it. This keeps that list honest: every named test file exists and every named
 * `npm run` script is defined, so a renamed or deleted check cannot leave a claim unchecked.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../lib/paths.js';

const claims = readFileSync(path.join(REPO_ROOT, 'docs', 'claims.md'), 'utf8');
const rows = claims.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| claim'));
const checks = rows.map((r) => r.split(' | ')[2] ?? '');

describe('docs/claims.md', () => {
  it('lists claims, each with a check and when it runs', () => {
    // Act
    const cells = rows.map((r) => r.split(' | ').length);

    // Assess
    expect(rows.length).toBeGreaterThan(10);
    expect(cells.every((n) => n === 4)).toBe(true);
  });

  it('names only test files that exist', () => {
    // Act
    const files = checks.flatMap((c) =>
      [...c.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]),
    );
    const missing = files.filter((f) => !existsSync(path.join(REPO_ROOT, f ?? '')));

    // Assess
    expect(files.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('names only npm scripts that package.json defines', () => {
    // Prepare
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };

    // Act
    const scripts = checks.flatMap((c) => [...c.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
    const missing = scripts.filter((s) => s === undefined || !(s in pkg.scripts));

    // Assess
    expect(scripts.length).toBeGreaterThan(3);
    expect(missing).toEqual([]);
  });
});
