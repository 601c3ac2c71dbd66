/** Types of `bin/bundle-key.mjs` (plain JavaScript: it runs before the TypeScript bundle). */
export declare function installedPackagesLock(
  repoRoot: string,
): Promise<{ file: string; content: Buffer } | null>;
export declare function bundleKey(
  repoRoot: string,
  inputs: readonly string[],
  toolchain: string,
): Promise<string | null>;
