/**
 * The cache key of the CLI bundle (bin/launch.mjs): a bundle is reused while the key it was
 * built under still matches. Plain JavaScript: it runs before the TypeScript bundle exists.
 *
 * What the key covers: the toolchain (`toolchain`: the Node, esbuild and code versions), the
 * launcher's own files, the installed packages ({@link installedPackagesLock}) and the path and
 * content of every source file the build read (`inputs`).
 *
 * What it does not notice: a package file edited in place under `node_modules` without npm
 * (no lock file changes); `STAGEGATE_CLI_BUILD=always` rebuilds every time for that.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The launcher's files: a change to how the bundle is built or keyed rebuilds it. */
const LAUNCHER_FILES = [path.join(here, 'launch.mjs'), fileURLToPath(import.meta.url)];

/**
 * The lock file that says which packages are installed: `node_modules/.package-lock.json`
 * (npm rewrites it on every install, `npm ci` included), else the repository's
 * `package-lock.json` (an install that did not write the hidden lock, e.g. a copied or
 * differently installed `node_modules`: the declared versions are still noticed).
 *
 * @param {string} repoRoot absolute path of the repository.
 * @returns {Promise<{ file: string, content: Buffer } | null>} the repo-relative file and its
 *   content, or null when neither exists.
 */
export async function installedPackagesLock(repoRoot) {
  for (const file of [path.join('node_modules', '.package-lock.json'), 'package-lock.json']) {
    try {
      return { file, content: await readFile(path.join(repoRoot, file)) };
    } catch {
      // absent: the next one
    }
  }
  return null;
}

/**
 * The bundle's key: 24 hex digits of a SHA-256 over `toolchain`, the launcher's files, the
 * installed packages' lock file and each of `inputs` (repo-relative paths, in sorted order).
 *
 * @param {string} repoRoot absolute path of the repository.
 * @param {readonly string[]} inputs the source files the last build read.
 * @param {string} toolchain what else the bundle depends on (Node, esbuild, code version).
 * @returns {Promise<string | null>} null when an input or both lock files are missing: the
 *   caller rebuilds (never a stale bundle over packages it cannot see).
 */
export async function bundleKey(repoRoot, inputs, toolchain) {
  const lock = await installedPackagesLock(repoRoot);
  if (lock === null) return null;
  const hash = createHash('sha256');
  hash.update(`${toolchain}\0`);
  for (const file of LAUNCHER_FILES) hash.update(await readFile(file));
  hash.update(`\0${lock.file}\0`);
  hash.update(lock.content);
  for (const input of [...inputs].sort()) {
    try {
      hash.update(`\0${input}\0`);
      hash.update(await readFile(path.join(repoRoot, input)));
    } catch {
      return null;
    }
  }
  return hash.digest('hex').slice(0, 24);
}
