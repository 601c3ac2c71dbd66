/**
 * CLI output streams and the kill switch's account (bin/stagegate.ts, README "Exit codes and
 * output"): with `--verbose` the handlers' Powertools logs go to stderr, every step of the run,
 * and stdout carries only the run's story; `kill on` cancels on the account the last run traded
 * on, not a fixed one.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_ROOT, REPO_ROOT } from '../support/paths.js';

const exec = promisify(execFile);

let state: string;

async function cli(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return exec(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'bin/stagegate.ts'),
      '--data',
      DATA_ROOT,
      '--state',
      state,
      ...args,
    ],
    { cwd: REPO_ROOT, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
  );
}

beforeAll(async () => {
  state = await mkdtemp(path.join(os.tmpdir(), 'stagegate-cli-output-'));
});

afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

describe('stagegate CLI output', () => {
  it('--verbose: handler logs of every step on stderr, none on stdout; kill on acts on the run account', async () => {
    // Act
    const run = await cli(['--verbose', 'run', '--days', '1', '--agents', '2']);

    // Assess: stdout is the story only; stderr has the logs of several handlers
    expect(run.stdout).toContain('stagegate local run: 1 session(s)');
    expect(run.stdout).not.toContain('"level":');
    const logs = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; message: string });
    const messages = new Set(logs.map((l) => l.message));
    expect(messages).toContain('cohort prepared');
    expect(messages).toContain('cohort simulated');
    expect(messages).toContain('cohort persisted');

    // Act
    const kill = await cli(['kill', 'on', '--reason', 'test']);

    // Assess: the account is the run's fresh one, named on stdout
    expect(kill.stdout).toMatch(/canceled on local-paper-\d{14}\n/);
  }, 600_000);
});
