import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface Launch {
  command: string;
  args: string[];
  cds: 'use' | 'dump' | 'none';
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
  STALE_CLAIM_MS: number;
};

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
});
