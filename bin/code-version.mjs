/**
 * The code version baked into every build (the deployed Lambda bundles, the CLI bundle, the
 * test run) and recorded in every audit record (`payload.provenance.code_version`,
 * docs/audit.md#provenance). Computed at BUILD time, never at run time: esbuild `define`s
 * `__STAGEGATE_CODE_VERSION__` to it.
 *
 * `STAGEGATE_BUILD_ID` when set (a CI build id, or a build from a tree without `.git`); else
 * the git commit (`git rev-parse --short=12 HEAD`, local, no network) with `-dirty` when
 * tracked source files differ from it; else `unknown`.
 */
import { execFileSync } from 'node:child_process';

/** Folders whose uncommitted changes make a build `-dirty` (the code, not the docs). */
const SOURCE_PATHS = ['functions', 'lib', 'bin', 'local', 'statemachines', 'package-lock.json'];

/**
 * @param {string} repoRoot absolute path of the repository.
 * @returns {string} e.g. `3c483d5a1b2c`, `3c483d5a1b2c-dirty`, the build id, or `unknown`.
 */
export function codeVersion(repoRoot) {
  const fromEnv = process.env.STAGEGATE_BUILD_ID?.trim();
  if (fromEnv) return fromEnv;
  try {
    const git = (args) =>
      execFileSync('git', args, {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git(['rev-parse', '--short=12', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', ...SOURCE_PATHS]);
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return 'unknown';
  }
}
