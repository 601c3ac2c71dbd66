/**
 * One writer per state folder (local/state-lock.ts): a second run on a folder in use, and a
 * folder that cannot be written, are refused up front with a message naming the folder (and
 * the holder), before any local server starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalStack } from '../../local/local-stack.js';
import { LOCK_FILE, lockStateFolder, StateFolderError } from '../../local/state-lock.js';
import { DATA_ROOT } from '../support/paths.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stagegate-state-test-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('state folder lock', () => {
  it('refuses a second run on a folder in use, naming the holder, before starting any server', async () => {
    // Prepare: another run holds the folder
    const state = path.join(root, 'state');
    const held = await lockStateFolder(state);
    try {
      // Act
      const second = startLocalStack({ dataRoot: DATA_ROOT, stateDir: state, logLevel: 'SILENT' });

      // Assess
      await expect(second).rejects.toThrow(StateFolderError);
      await expect(second).rejects.toThrow(
        new RegExp(`in use by another stagegate run \\(pid ${process.pid} on ${os.hostname()}`),
      );
      // The holder's lock is untouched by the refused run
      expect(JSON.parse(await readFile(path.join(state, LOCK_FILE), 'utf8'))).toMatchObject({
        pid: process.pid,
      });
    } finally {
      await held.release();
    }
  });

  it('takes over a lock whose holder is gone, and releases it', async () => {
    // Prepare: a lock left by a process that has exited
    const state = path.join(root, 'stale');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout.toString());
    await lockStateFolder(state).then((l) => l.release());
    await writeFile(
      path.join(state, LOCK_FILE),
      JSON.stringify({ pid: deadPid, host: os.hostname(), startedAt: 'x', command: 'old run' }),
    );

    // Act
    const lock = await lockStateFolder(state);

    // Assess
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    await expect(readFile(lock.file, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('refuses a folder that cannot be created or written, naming it', async () => {
    // Prepare: a regular file where the folder's parent should be
    const blocker = path.join(root, 'not-a-folder');
    await writeFile(blocker, 'x');
    const state = path.join(blocker, 'state');

    // Act
    const run = startLocalStack({ dataRoot: DATA_ROOT, stateDir: state, logLevel: 'SILENT' });

    // Assess
    await expect(run).rejects.toThrow(StateFolderError);
    await expect(run).rejects.toThrow(`state folder ${state}: cannot be written`);
  });
});
