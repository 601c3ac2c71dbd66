/**
 * One writer per state folder: the local runtime takes `<state>/stagegate.lock` before it
 * starts the servers on the folder, and refuses a second run with a message naming the holder
 * (pid, host, start time, command). Two runs on one folder would race DynamoDB Local and
 * s3rver on the same files (a raw `ResourceInUseException`, or duplicate cohorts), and the
 * start-up crash sweep may only close runs nobody is running.
 *
 * The lock is a file created with `O_EXCL` (`wx`), so exactly one process wins. A lock whose
 * holder is gone (same host, pid not alive) is stale and taken over. A folder that cannot be
 * written is refused up front, before any server starts.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The lock file's name inside the state folder. */
export const LOCK_FILE = 'stagegate.lock';

/** Who holds a state folder. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** UTC ISO-8601. */
  readonly startedAt: string;
  readonly command: string;
}

/** The state folder is locked by another live run, or cannot be written. */
export class StateFolderError extends Error {
  override readonly name = 'StateFolderError';
  constructor(
    readonly folder: string,
    message: string,
    readonly holder: LockHolder | null = null,
  ) {
    super(`state folder ${folder}: ${message}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    return {
      pid: parsed.pid,
      host: parsed.host,
      startedAt: String(parsed.startedAt ?? '?'),
      command: String(parsed.command ?? '?'),
    };
  } catch {
    return null;
  }
}

/** A held lock; `release()` removes the file (idempotent). */
export interface StateLock {
  readonly file: string;
  release(): Promise<void>;
}

/**
 * Checks that `folder` can be written (creating it if needed) and takes its lock.
 *
 * @throws StateFolderError when the folder cannot be created or written (read-only, no
 *   permission), or another live process holds the lock (the message names it).
 */
export async function lockStateFolder(folder: string): Promise<StateLock> {
  const dir = path.resolve(folder);
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new StateFolderError(
      dir,
      `cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose a writable folder with --state`,
    );
  }
  const file = path.join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await handle.close();
      }
      let released = false;
      return {
        file,
        release: async () => {
          if (released) return;
          released = true;
          const holder = await readHolder(file);
          if (holder?.pid === me.pid && holder.host === me.host) await rm(file, { force: true });
        },
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')
        throw new StateFolderError(
          dir,
          `cannot be written (${code}); choose a writable folder with --state`,
        );
      if (code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(file);
    if (holder && (holder.host !== me.host || alive(holder.pid))) {
      throw new StateFolderError(
        dir,
        `in use by another stagegate run (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}: ${holder.command}); wait for it to finish, or use another --state folder`,
        holder,
      );
    }
    // Stale (holder gone) or unreadable: remove and retry the exclusive create.
    await rm(file, { force: true });
  }
  throw new StateFolderError(dir, 'could not take the lock (contended); try again');
}

/** Writes and removes a probe file: proves the folder is writable for the servers' data. */
export async function probeWritable(folder: string): Promise<void> {
  const probe = path.join(path.resolve(folder), `.write-probe-${process.pid}`);
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    throw new StateFolderError(
      path.resolve(folder),
      `cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose a writable folder with --state`,
    );
  }
}

/** The file naming the simulated paper account of the last `run` on a state folder. */
export const RUN_ACCOUNT_FILE = 'last-run-account.json';

/**
 * Records the simulated paper account a `run` trades on, so that `kill on` (which can only
 * run once the run released the folder) cancels that account's open orders by default.
 */
export async function recordRunAccount(folder: string, account: string): Promise<void> {
  const file = path.join(path.resolve(folder), RUN_ACCOUNT_FILE);
  const body = { account, recordedAt: new Date().toISOString(), pid: process.pid };
  await writeFile(`${file}.${process.pid}.tmp`, `${JSON.stringify(body)}\n`);
  await rename(`${file}.${process.pid}.tmp`, file);
}

/** The account {@link recordRunAccount} wrote last, or null (no run yet, or unreadable). */
export async function lastRunAccount(folder: string): Promise<string | null> {
  try {
    const parsed = JSON.parse(
      await readFile(path.join(path.resolve(folder), RUN_ACCOUNT_FILE), 'utf8'),
    ) as { account?: unknown };
    return typeof parsed.account === 'string' && /^[A-Za-z0-9_.-]{1,128}$/.test(parsed.account)
      ? parsed.account
      : null;
  } catch {
    return null;
  }
}
