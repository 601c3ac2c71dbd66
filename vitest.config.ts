import { defineConfig } from 'vitest/config';

/**
 * One runner for every layer: unit (pure core, no I/O), integration (real local servers),
 * infra (CDK assertions + cdk-nag). Integration and infra tests start processes and
 * synthesize stacks, so they get generous deadlines (a loaded 2-core machine running two copies
 * of the suite, or other work, slows CDK synthesis several-fold); none assert on wall-clock speed
 * (speed lives in `npm run bench`).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
