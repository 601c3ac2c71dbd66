import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface Launch {
  command: string;
  args: string[];
  cds: 'use' | 'dump' | 'none';
  trained?: string;
}
const cds = createRequire(import.meta.url)('../../../local/dynamodb-cds.cjs') as {
  javaLaunch(o: {
    port: number;
    dataDir: string;
    cacheDir: string;
    env?: NodeJS.ProcessEnv;
    now?: number;
  }): Launch;
  stripClassPath(text: string): { manifest: string; mainClass: string | null };
  pruneCache(cacheDir: string, key: string, now: number): string[];
  RUNNER: string;
  STALE_CLAIM_MS: number;
};

/** Sets the modification time of `files` in `dir` to `ms`. */
async function age(dir: string, files: readonly string[], ms: number): Promise<void> {
  for (const f of files) await utimes(path.join(dir, f), new Date(ms), new Date(ms));
}

describe('DynamoDB Local class-data sharing launch', () => {
  let cacheDir: string;
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-cds-'));
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('drops the Class-Path header and its continuation lines, keeping the main class', () => {
    // Prepare
    const manifest = [
      'Manifest-Version: 1.0',
      'Main-Class: com.example.Main',
      'Class-Path: . log4j2.xml lib/a.jar lib/b',
      ' .jar lib/c.jar',
      'Bundle-Description: a long',
      '  description',
      '',
    ].join('\r\n');

    // Act
    const out = cds.stripClassPath(manifest);

    // Assess
    expect(out.mainClass).toBe('com.example.Main');
    expect(out.manifest).not.toMatch(/Class-Path|log4j2|\.jar/);
    expect(out.manifest).toContain('Bundle-Description: a long\r\n  description');
  });

  it('lets one start write the archive, runs the others without it meanwhile, then maps it', async () => {
    // Prepare
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now: Date.now() };

    // Act
    const first = cds.javaLaunch(at);
    const concurrent = cds.javaLaunch(at);
    const archive = (await readdir(cacheDir)).find((f) => f.endsWith('.jsa.dumping'));
    await writeFile(path.join(cacheDir, String(archive).replace(/\.dumping$/, '')), 'x');
    const later = cds.javaLaunch(at);

    // Assess
    expect(first.cds).toBe('dump');
    expect(first.command).toBe('sh');
    expect(first.args.some((a) => a.startsWith('-XX:ArchiveClassesAtExit='))).toBe(true);
    expect(concurrent.cds).toBe('none');
    expect(concurrent.args.some((a) => a.startsWith('-XX:'))).toBe(false);
    expect(later.cds).toBe('use');
    expect(later.args.some((a) => a.startsWith('-XX:SharedArchiveFile='))).toBe(true);
    for (const launch of [first, concurrent, later]) {
      const cp = launch.args[launch.args.indexOf('-cp') + 1] ?? '';
      expect(cp).toContain(cacheDir); // the copy without Class-Path, not the package's jar
      expect(launch.args.slice(-4)).toEqual(['-inMemory', '-port', '8000', '-sharedDb']);
    }
  });

  it('takes over a claim left by a crashed start once it is stale', async () => {
    // Prepare
    const at = { port: 8000, dataDir: '/tmp/x', cacheDir, now: Date.now() };
    expect(cds.javaLaunch(at).cds).toBe('dump');
    const claim = (await readdir(cacheDir)).find((f) => f.endsWith('.dumping')) as string;
    const old = new Date(Date.now() - cds.STALE_CLAIM_MS - 60_000);
    await utimes(path.join(cacheDir, claim), old, old);

    // Act
    const next = cds.javaLaunch(at);

    // Assess
    expect(next.cds).toBe('dump');
    expect(next.args).toContain('-dbPath');
  });

  it('keys the files by the JVM options: an archive written under other options is not mapped', async () => {
    // Prepare: an archive for the current options
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now: Date.now() };
    cds.javaLaunch(at);
    const claim = (await readdir(cacheDir)).find((f) => f.endsWith('.dumping')) as string;
    await writeFile(path.join(cacheDir, claim.replace(/\.dumping$/, '')), 'x');

    // Act
    const other = cds.javaLaunch({
      ...at,
      env: { ...process.env, JDK_JAVA_OPTIONS: '-XX:+UseParallelGC' },
    });

    // Assess
    expect(other.cds).toBe('dump');
  });

  it('keeps a dumped archive only after a clean exit of a trained run', async () => {
    // Prepare: the runner around a stand-in "JVM" that writes the archive file and exits
    const run = (exitCode: number, trained: boolean) => {
      const tmp = path.join(cacheDir, `ddb-x.jsa.${exitCode}${trained}.tmp`);
      const final = path.join(cacheDir, `ddb-x-${exitCode}${trained}.jsa`);
      const marker = `${tmp}.trained`;
      const claimFile = `${final}.dumping`;
      if (trained) spawnSync('touch', [marker]);
      spawnSync('touch', [claimFile]);
      const jvm = `printf archive > "${tmp}"; exit ${exitCode}`;
      const r = spawnSync('sh', [
        '-c',
        cds.RUNNER,
        'sh',
        tmp,
        final,
        claimFile,
        marker,
        'sh',
        '-c',
        jvm,
      ]);
      return {
        status: r.status,
        kept: existsSync(final),
        leftovers: [tmp, marker, claimFile].filter(existsSync),
      };
    };

    // Act
    const cleanTrained = run(0, true);
    const stoppedTrained = run(143, true);
    const untrained = run(0, false);
    const crashed = run(134, true);

    // Assess
    expect(cleanTrained).toEqual({ status: 0, kept: true, leftovers: [] });
    expect(stoppedTrained).toEqual({ status: 143, kept: true, leftovers: [] });
    expect(untrained).toEqual({ status: 0, kept: false, leftovers: [] });
    expect(crashed).toEqual({ status: 134, kept: false, leftovers: [] });
  });

  it('names a marker for the archive-writing start only', async () => {
    // Prepare
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now: Date.now() };

    // Act
    const first = cds.javaLaunch(at);
    const concurrent = cds.javaLaunch(at);

    // Assess: the runner gets the marker; the JVM is asked to write to a temporary file
    expect(first.trained).toMatch(/ddb-[0-9a-f]{16}\.jsa\.\d+\.trained$/);
    expect(first.args).toContain(first.trained);
    expect(first.args.find((a) => a.startsWith('-XX:ArchiveClassesAtExit='))).toMatch(/\.tmp$/);
    expect(concurrent.trained).toBeUndefined();
  });

  it("prunes other keys' files and dead runs' temporaries once untouched for the stale window", async () => {
    // Prepare: the current key's files, an older key's, and leftovers of a dead run (pid 2**22+1)
    const now = Date.now();
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now };
    cds.javaLaunch(at);
    const current = await readdir(cacheDir);
    const key = /DynamoDBLocal-([0-9a-f]{16})\.jar/.exec(current.join(' '))?.[1] as string;
    const other = '0123456789abcdef';
    const dead = 4194305;
    const old = [
      `DynamoDBLocal-${other}.jar`,
      `DynamoDBLocal-${other}.json`,
      `ddb-${other}.jsa`,
      `ddb-${other}.jsa.dumping`,
      `ddb-${key}.jsa.${dead}.tmp`,
      `ddb-${key}.jsa.${dead}.trained`,
    ];
    const recent = `ddb-${other}.jsa.recent`;
    for (const f of [...old, recent, 'unrelated.txt']) await writeFile(path.join(cacheDir, f), 'x');
    await age(cacheDir, [...old, 'unrelated.txt', ...current], now - cds.STALE_CLAIM_MS - 60_000);
    await age(cacheDir, [recent], now - 1_000);

    // Act
    const pruned = cds.pruneCache(cacheDir, key, now);

    // Assess: only the stale files of other keys and the dead run's leftovers are gone
    expect(pruned.sort()).toEqual([...old].sort());
    expect((await readdir(cacheDir)).sort()).toEqual([...current, recent, 'unrelated.txt'].sort());
  });

  it('refreshes the files it launches with, so a concurrent prune under another key keeps them', async () => {
    // Prepare: an archive of the current key, last used long ago
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now: Date.now() };
    cds.javaLaunch(at);
    const claim = (await readdir(cacheDir)).find((f) => f.endsWith('.dumping')) as string;
    const archive = claim.replace(/\.dumping$/, '');
    await writeFile(path.join(cacheDir, archive), 'x');
    const files = (await readdir(cacheDir)).filter((f) => !f.endsWith('.dumping'));
    await age(cacheDir, files, at.now - 2 * cds.STALE_CLAIM_MS);

    // Act: a start maps it, then a start under other JVM options prunes
    const use = cds.javaLaunch(at);
    cds.javaLaunch({ ...at, env: { ...process.env, JDK_JAVA_OPTIONS: '-Xmx64m' } });

    // Assess: all kept; the archive and the .json refreshed
    expect(use.cds).toBe('use');
    for (const f of files.filter((f) => !f.endsWith('.jar')))
      expect((await stat(path.join(cacheDir, f))).mtimeMs).toBeGreaterThan(at.now - 1_000);
    expect((await readdir(cacheDir)).sort()).toEqual(expect.arrayContaining(files.sort()));
  });

  it("never changes the jar copy's modification time, which the archive records", async () => {
    // Prepare: a written archive beside the jar copy of its key
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now: Date.now() };
    cds.javaLaunch(at);
    const claim = (await readdir(cacheDir)).find((f) => f.endsWith('.dumping')) as string;
    await writeFile(path.join(cacheDir, claim.replace(/\.dumping$/, '')), 'x');
    const jar = (await readdir(cacheDir)).find((f) => f.endsWith('.jar')) as string;
    const written = Math.floor((at.now - 2 * cds.STALE_CLAIM_MS) / 1000) * 1000; // whole seconds: exact in any file system
    await age(cacheDir, [jar], written);

    // Act: later starts map the archive
    const use = cds.javaLaunch({ ...at, now: at.now + 1_000 });
    cds.javaLaunch({ ...at, now: at.now + 2_000 });

    // Assess: the jar is the one the archive was written against (the JVM checks its mtime)
    expect(use.cds).toBe('use');
    expect((await stat(path.join(cacheDir, jar))).mtimeMs).toBe(written);
  });

  it('drops the archive of a key whose jar copy is written anew', async () => {
    // Prepare: an archive whose jar copy is gone (deleted by hand, or pruned)
    const at = { port: 8000, dataDir: ':memory:', cacheDir, now: Date.now() };
    cds.javaLaunch(at);
    const claim = (await readdir(cacheDir)).find((f) => f.endsWith('.dumping')) as string;
    const archive = claim.replace(/\.dumping$/, '');
    await writeFile(path.join(cacheDir, archive), 'x');
    await rm(path.join(cacheDir, claim));
    const jar = (await readdir(cacheDir)).find((f) => f.endsWith('.jar')) as string;
    await rm(path.join(cacheDir, jar));

    // Act
    const next = cds.javaLaunch(at);

    // Assess: the new copy's archive is written again, never mapped against the old one's
    expect(next.cds).toBe('dump');
    expect(existsSync(path.join(cacheDir, jar))).toBe(true);
    expect(existsSync(path.join(cacheDir, archive))).toBe(false);
  });
});
