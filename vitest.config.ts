import { defineConfig } from 'vitest/config';

/**
 * One runner for every layer: unit (pure core, no I/O), integration (real local servers),
 * infra (CDK assertions + cdk-nag). Integration and infra tests start processes and
 * synthesize stacks, so they get longer timeouts; none of them assert on wall-clock speed
 * (speed lives in `npm run bench`).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
