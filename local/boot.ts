/**
 * The start of a local run that comes before the application loads: the state folder's lock,
 * then the emulators (DynamoDB Local's JVM above all), started at once. The CLI's light entry
 * (bin/stagegate.ts) calls {@link bootLocalServers} as soon as the command line is valid and
 * then imports the rest of the application while the JVM boots; `startLocalStack`
 * (local-stack.ts) finishes the start on what it returns (or boots itself).
 *
 * Light on purpose: this module and what it imports load only Node built-ins (servers.ts
 * imports the AWS SDK when first needed).
 */
import { type LocalServers, startLocalServers } from './servers.js';
import { lockStateFolder, probeWritable, type StateLock } from './state-lock.js';

export const LOCAL_TABLE = 'stagegate-local';

export const LOCAL_BUCKETS = {
  artifacts: 'stagegate-local-artifacts',
  audit: 'stagegate-local-audit',
} as const;

/** A booted state folder: its lock (null for `memory`) and the emulators coming up on it. */
export interface BootedServers {
  readonly lock: StateLock | null;
  /**
   * Resolves when both emulators answer; rejects with their start error. Whoever boots hands
   * it to `startLocalStack`, which stops the servers and releases the lock on a failure.
   */
  readonly servers: Promise<LocalServers>;
}

/**
 * Takes the state folder's lock and checks the folder can be written (null for `memory`),
 * before any server starts: a second run on the folder is refused up front.
 *
 * @throws StateFolderError when another live run holds the folder, or it cannot be written.
 */
export async function lockState(stateDir: string | 'memory'): Promise<StateLock | null> {
  if (stateDir === 'memory') return null;
  const lock = await lockStateFolder(stateDir);
  try {
    await probeWritable(stateDir);
  } catch (err) {
    await lock.release();
    throw err;
  }
  return lock;
}

/**
 * Locks `stateDir` ({@link lockState}), then starts DynamoDB Local and the S3 emulator on it
 * with the local buckets, and returns once both processes are spawned, without waiting for
 * them to be ready. Returning before the spawns would let the caller's next import (the
 * application, about a second of module loading that holds the event loop) delay the JVM's
 * start by as long: the ports are picked and the processes spawned over a few event-loop turns.
 *
 * @throws StateFolderError as {@link lockState}, before any server starts.
 */
export async function bootLocalServers(stateDir: string | 'memory'): Promise<BootedServers> {
  const lock = await lockState(stateDir);
  let onSpawned = () => {};
  const spawned = new Promise<void>((resolve) => {
    onSpawned = resolve;
  });
  const servers = startLocalServers({
    dataDir: stateDir,
    buckets: Object.values(LOCAL_BUCKETS),
    onSpawned,
  });
  servers.catch(() => undefined); // awaited by startLocalStack
  // A start that fails before spawning settles `servers` instead (its error is the caller's).
  await Promise.race([spawned, servers.then(noop, noop)]);
  return { lock, servers };
}

const noop = () => undefined;
