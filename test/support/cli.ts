/**
 * The stagegate CLI as a user runs it: `node --import tsx bin/stagegate.ts <args>` in a child
 * process from the repository root. Shared by every test that spawns the CLI, so the command
 * line, the output buffer and the exit-code handling are written once.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { DATA_ROOT, REPO_ROOT } from './paths.js';

const exec = promisify(execFile);

/** One finished CLI process: its exit code (0 on success) and both output streams (UTF-8). */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run the CLI: extra environment (merged over the test's own) and a bound in ms. */
export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the process after this many milliseconds (default 300,000). */
  readonly timeoutMs?: number;
}

const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * Runs `bin/stagegate.ts` with `args` and resolves with its exit code and output; a non-zero
 * exit is a result, not a rejection, so a test asserts the code it expects.
 *
 * @throws Error when the process is killed by a signal (for example `timeoutMs` passed) or
 *   cannot be spawned; the message carries the arguments and what it printed on stderr.
 */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  try {
    const out = await exec(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'bin/stagegate.ts'), ...args],
      {
        cwd: REPO_ROOT,
        timeout: opts.timeoutMs ?? 300_000,
        maxBuffer: MAX_BUFFER_BYTES,
        env: { ...process.env, ...opts.env },
      },
    );
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (err) {
    const e = err as {
      code?: number | string;
      signal?: string | null;
      stdout?: string;
      stderr?: string;
    };
    if (typeof e.code !== 'number') {
      throw new Error(
        `stagegate ${args.join(' ')}: ended by ${e.signal ?? String(e.code)}\n${e.stderr ?? ''}`,
        { cause: err },
      );
    }
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The global flags of a local run over the shared LEAN data with its own state folder. */
export function localRunFlags(stateDir: string): readonly string[] {
  return ['--data', DATA_ROOT, '--state', stateDir];
}
