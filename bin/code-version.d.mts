/** See bin/code-version.mjs. */
export function codeVersion(repoRoot: string): string;
