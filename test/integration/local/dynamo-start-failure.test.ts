/**
 * DynamoDB Local's start stops its JVM whatever fails after the spawn. Before d84c9a7 a
 * failure outside the readiness poll (the AWS SDK failing to load for the probe) left the JVM
 * running and the CLI waiting on it forever; here the SDK's loading fails once the JVM runs,
 * and the JVM must be gone after the start's rejection.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenablePort, startLocalServers } from '../../../local/servers.js';

/** Bound of each wait on a loaded machine (a cold JVM; its stop), not a speed claim. */
const DEADLINE_MS = 120_000;
const POLL_MS = 50;

/** Polls `probe` until it gives a value (not null/false), within `deadlineMs`. */
async function until<T>(what: string, probe: () => Promise<T | null | false>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The pid of the JVM serving DynamoDB Local on `port` (argv `java ... -port <port>`), or null. */
async function jvmOnPort(port: number): Promise<number | null> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8')
      .then((text) => text.split('\0'))
      .catch(() => [] as string[]);
    const at = argv.indexOf('-port');
    if (path.basename(argv[0] ?? '') === 'java' && at > 0 && argv[at + 1] === String(port)) {
      return Number(entry);
    }
  }
  return null;
}

/** False once `pid` is gone (`kill(pid, 0)` fails with ESRCH). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

let leftover: number | null = null;
afterEach(() => {
  // Only when the test failed before it saw the JVM gone: the test's own JVM, by its pid.
  if (leftover !== null && alive(leftover)) process.kill(leftover, 'SIGKILL');
  leftover = null;
});

describe('DynamoDB Local start that fails after the spawn', () => {
  it(
    'stops the JVM when the SDK fails to load for the readiness probe',
    async () => {
      // Prepare: the port is known, the SDK's loading waits for the JVM, then fails
      let port = 0;
      const seen: { jvm?: number } = {};
      const start = startLocalServers({
        buckets: [],
        dynamoPort: async () => {
          port = await listenablePort();
          return port;
        },
        loadDynamoSdk: async () => {
          seen.jvm = await until(`DynamoDB Local's JVM on port ${port}`, () => jvmOnPort(port));
          leftover = seen.jvm;
          throw new Error('injected: @aws-sdk/client-dynamodb failed to load');
        },
      });

      // Act
      await expect(start).rejects.toThrow('injected: @aws-sdk/client-dynamodb failed to load');

      // Assess: the JVM that was running when the SDK failed is gone
      const pid = seen.jvm ?? 0;
      expect(pid).toBeGreaterThan(0);
      await expect(until(`JVM ${pid} gone`, async () => !alive(pid))).resolves.toBe(true);
      leftover = null; // seen gone: its pid may be reused by another process, never signal it
    },
    2 * DEADLINE_MS + 30_000,
  );
});
