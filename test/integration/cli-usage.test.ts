/**
 * CLI input validation (bin/stagegate.ts): malformed numbers and counts are usage errors,
 * refused before anything runs, with exit code 2 (README "Exit codes") and a message naming the
 * flag.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/paths.js';

async function cli(args: readonly string[]) {
  return runCli(args, {
    timeoutMs: 120_000,
    env: { STAGEGATE_STATE_DIR: path.join(REPO_ROOT, '.local/never-created') },
  });
}

describe('stagegate CLI usage errors', () => {
  it.each([
    [['--days', '-1'], '--days'],
    [['--days', '2.5'], '--days'],
    [['--agents', '2.5'], '--agents'],
    [['--agents', '-3'], '--agents'],
    [['--bankroll', 'NaN'], '--bankroll'],
    [['--bankroll', '1,000'], '--bankroll'],
    [['--seed', '1e3'], '--seed'],
  ])('run %j exits 2 naming the flag', async (args, flag) => {
    // Act
    const out = await cli(['run', ...args]);

    // Assess
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${flag} must be`);
  });

  it('refuses a usage error of the run verb itself before it locks the state folder or starts a server', async () => {
    // Prepare: a state folder that does not exist yet
    const root = await mkdtemp(path.join(os.tmpdir(), 'stagegate-usage-'));
    const state = path.join(root, 'state');
    try {
      // Act: --seed is refused with the deployed chain's market data, inside the verb
      const out = await runCli(['run', '--market-data', 'alpaca-fake', '--seed', '2'], {
        timeoutMs: 120_000,
        env: { STAGEGATE_STATE_DIR: state },
      });

      // Assess: exit 2, and nothing was created (no lock, no DynamoDB Local or s3rver data)
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('--seed is not an input of the deployed session chain');
      expect(existsSync(state)).toBe(false);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
