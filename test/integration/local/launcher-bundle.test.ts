/**
 * `npm start`'s launcher (bin/launch.mjs) runs the CLI from one esbuild bundle of our
 * TypeScript and the packages it imports. The CLI's tests run it through tsx, so this is the
 * one test of the bundle itself: built afresh, it boots the emulators (the SDK loaded with
 * `await import(...)`, whose named exports the bundle must keep) and answers a command; and the
 * AWS SDK and the ASL interpreter are inside it, not loaded from node_modules.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cacheDir = path.join(repoRoot, 'node_modules', '.cache', 'stagegate');
/** Bound of the whole command on a loaded machine (a build and a JVM start), not a speed claim. */
const COMMAND_DEADLINE_MS = 240_000;

function launch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin', 'launch.mjs'), ...args],
      {
        env: { ...process.env, STAGEGATE_CLI_BUILD: 'always' },
        timeout: COMMAND_DEADLINE_MS,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Bare package specifiers the bundle's files still import at run time. */
async function packagesImported(bundleDir: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const file of await readdir(bundleDir)) {
    const text = await readFile(path.join(bundleDir, file), 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*"((?:@[^/"]+\/)?[^./"][^/"]*)/g)) {
      if (!m[1]?.startsWith('node:')) found.add(m[1] as string);
    }
  }
  return found;
}

describe('the launcher bundle', () => {
  let state: string;
  beforeEach(async () => {
    state = await mkdtemp(path.join(os.tmpdir(), 'stagegate-launcher-'));
  });
  afterEach(async () => {
    await rm(state, { recursive: true, force: true });
  });

  it(
    'boots the emulators and answers from a fresh build, with the SDK and the interpreter inside',
    async () => {
      // Act
      const out = await launch(['--state', state, 'kill', 'status']);
      const manifest = JSON.parse(
        await readFile(path.join(cacheDir, 'cli-manifest.json'), 'utf8'),
      ) as { bundle: string };
      const imported = await packagesImported(path.dirname(path.join(cacheDir, manifest.bundle)));

      // Assess
      expect(out.stderr).not.toMatch(/not a constructor|TypeError/);
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^kill switch: off/m);
      for (const pkg of [
        '@aws-sdk/client-dynamodb',
        '@aws-sdk/lib-dynamodb',
        '@aws-sdk/client-s3',
        'aws-local-stepfunctions',
        'zod',
      ]) {
        expect(imported.has(pkg), pkg).toBe(false);
      }
      expect(imported.has('@duckdb/node-api')).toBe(true);
    },
    COMMAND_DEADLINE_MS + 30_000,
  );
});
