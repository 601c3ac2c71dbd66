/**
 * CLI output streams and the kill switch's account (bin/stagegate.ts, README "Exit codes and
 * output"): with `--verbose` the handlers' Powertools logs go to stderr, every step of the run,
 * and stdout carries only the run's story; `kill on` cancels on the account the last run traded
 * on, not a fixed one; the audit verbs (`audit verify`, `audit query`, `audit compact`) read
 * the trail that run wrote, and `audit verify` exits 1 naming the stream whose record is gone.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, localRunFlags, runCli } from '../support/cli.js';

let state: string;

async function cli(args: readonly string[]): Promise<CliResult> {
  const result = await runCli([...localRunFlags(state), ...args]);
  expect(result.code, result.stderr).toBe(0);
  return result;
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

  it("audit verify, query and compact read the run's trail; verify exits 1 when a record is gone", async () => {
    // Arrange: a trail of its own (one session, two agents)
    const own = await mkdtemp(path.join(os.tmpdir(), 'stagegate-cli-audit-'));
    const audit = (args: readonly string[]) => runCli([...localRunFlags(own), 'audit', ...args]);
    try {
      const run = await runCli([...localRunFlags(own), 'run', '--days', '1', '--agents', '2']);
      expect(run.code, run.stderr).toBe(0);

      // Act + Assess: the chains verify; SQL sees the learning cycles; the day compacts
      const verified = await audit(['verify']);
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(
        /audit verified: [1-9]\d* record\(s\) .* every hash chain intact/,
      );
      const kinds = await audit(['query', "select kind from audit where kind = 'learning_cycle'"]);
      expect(kinds.code, kinds.stderr).toBe(0);
      expect(kinds.stdout).toMatch(/learning_cycle\n[\s\S]*[1-9]\d* row\(s\)/);
      const compacted = await audit(['compact', '--date', '2013-10-07']);
      expect(compacted.code, compacted.stderr).toBe(0);
      expect(compacted.stdout).toContain(
        'of 2013-10-07 into audit-parquet/env=local/dt=2013-10-07/',
      );

      // Act: a learning stream's only record disappears from the bucket (s3rver's files)
      const day = path.join(own, 's3/stagegate-local-audit/audit/env=local/dt=2013-10-07');
      const hours = await readdir(day);
      const streamDirs = (
        await Promise.all(
          hours.map(async (h) =>
            (await readdir(path.join(day, h))).map((d) => path.join(day, h, d)),
          ),
        )
      ).flat();
      const learning = streamDirs.find((d) => path.basename(d).startsWith('learning_3A'));
      expect(learning).toBeDefined();
      await rm(learning as string, { recursive: true, force: true });
      const broken = await audit(['verify']);

      // Assess: exit 1, the stream named
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('audit verification FAILED');
      expect(broken.stderr).toContain(
        `stream ${path.basename(learning as string).replace('_3A', ':')}`,
      );
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  }, 600_000);
});
