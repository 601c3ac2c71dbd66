/**
 * The code version this build runs (bin/code-version.mjs): replaced at build time by esbuild's
 * `define` (Lambda bundles: lib/constructs/bundling.ts; CLI bundle: bin/launch.mjs; tests:
 * vitest.config.ts). Code run without a build (tsx) reports `unbuilt`. Never read at run time
 * from git or the network.
 */
declare const __STAGEGATE_CODE_VERSION__: string | undefined;

/** e.g. `3c483d5a1b2c` (git commit, `-dirty` when built from uncommitted sources). */
export const CODE_VERSION: string =
  typeof __STAGEGATE_CODE_VERSION__ === 'string' && __STAGEGATE_CODE_VERSION__.length > 0
    ? __STAGEGATE_CODE_VERSION__
    : 'unbuilt';
