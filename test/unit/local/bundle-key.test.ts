/**
 * The CLI bundle's cache key (bin/bundle-key.mjs) sees the installed packages also when npm's
 * hidden lock `node_modules/.package-lock.json` is missing: it then hashes `package-lock.json`
 * (it hashed nothing, so a reinstall that did not write the hidden lock reused a stale bundle).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleKey, installedPackagesLock } from '../../../bin/bundle-key.mjs';

const TOOLCHAIN = 'v22.0.0\u00000.25.0\u0000abc123';
const INPUTS = ['bin/stagegate.ts'];
const lock = (version: string) => JSON.stringify({ packages: { 'node_modules/zod': { version } } });

let repo: string;
beforeEach(async () => {
  // Prepare: a repository with one source file and its package-lock.json only
  repo = await mkdtemp(path.join(os.tmpdir(), 'stagegate-bundle-key-'));
  await mkdir(path.join(repo, 'bin'));
  await writeFile(path.join(repo, 'bin', 'stagegate.ts'), 'export {};\n');
  await writeFile(path.join(repo, 'package-lock.json'), lock('4.1.0'));
});
afterEach(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('bundleKey', () => {
  it('changes with package-lock.json when node_modules/.package-lock.json is absent', async () => {
    // Act
    const before = await bundleKey(repo, INPUTS, TOOLCHAIN);
    const same = await bundleKey(repo, INPUTS, TOOLCHAIN);
    await writeFile(path.join(repo, 'package-lock.json'), lock('4.2.0'));
    const after = await bundleKey(repo, INPUTS, TOOLCHAIN);

    // Assess
    expect(before).toMatch(/^[0-9a-f]{24}$/);
    expect(same).toBe(before);
    expect(after).toMatch(/^[0-9a-f]{24}$/);
    expect(after).not.toBe(before);
    expect((await installedPackagesLock(repo))?.file).toBe('package-lock.json');
  });

  it('follows the installed packages (the hidden lock) when npm wrote it', async () => {
    // Prepare
    await mkdir(path.join(repo, 'node_modules'));
    const hidden = path.join(repo, 'node_modules', '.package-lock.json');
    await writeFile(hidden, lock('4.1.0'));

    // Act
    const installed = await bundleKey(repo, INPUTS, TOOLCHAIN);
    await writeFile(path.join(repo, 'package-lock.json'), lock('4.2.0'));
    const lockEditedOnly = await bundleKey(repo, INPUTS, TOOLCHAIN);
    await writeFile(hidden, lock('4.2.0'));
    const reinstalled = await bundleKey(repo, INPUTS, TOOLCHAIN);

    // Assess: the bundle holds what is installed, not what the lock asks for
    expect(lockEditedOnly).toBe(installed);
    expect(reinstalled).not.toBe(installed);
    expect((await installedPackagesLock(repo))?.file).toBe(
      path.join('node_modules', '.package-lock.json'),
    );
  });

  it('has no key (the launcher rebuilds) without either lock file or with an input missing', async () => {
    // Prepare
    const keyed = await bundleKey(repo, INPUTS, TOOLCHAIN);
    await rm(path.join(repo, 'package-lock.json'));

    // Act + Assess
    expect(keyed).not.toBeNull();
    expect(await bundleKey(repo, INPUTS, TOOLCHAIN)).toBeNull();
    await writeFile(path.join(repo, 'package-lock.json'), lock('4.1.0'));
    expect(await bundleKey(repo, [...INPUTS, 'bin/gone.ts'], TOOLCHAIN)).toBeNull();
  });
});
