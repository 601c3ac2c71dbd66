import { defineConfig } from 'vitest/config';
import { codeVersion } from './bin/code-version.mjs';

/**
 * One runner for every layer: unit (pure core, no I/O), integration (real local servers),
 * infra (CDK assertions + cdk-nag). Integration and infra tests start processes and
 * synthesize stacks, so they get generous deadlines (a loaded 2-core machine running two copies
 * of the suite, or other work, slows CDK synthesis several-fold); none assert on wall-clock speed
 * (speed lives in `npm run bench`).
 */
export default defineConfig({
  // The code version every audit record carries (functions/config/code-version.ts), baked in
  // like the Lambda and CLI bundles do.
  define: { __STAGEGATE_CODE_VERSION__: JSON.stringify(codeVersion(import.meta.dirname)) },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
