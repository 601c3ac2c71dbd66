/** Types of `bin/node-version.mjs` (plain JavaScript: it runs before the TypeScript bundle). */
export declare const MIN_NODE_MAJOR: number;
export declare function nodeVersionProblem(version: string): string | null;
