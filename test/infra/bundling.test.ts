/**
 * The deployed bundle format, exercised for real: a handler bundled with the construct's
 * esbuild options (ESM + createRequire banner, minified, SDK external) loads in Node and
 * still throws errors whose `name` is the domain class name, which Step Functions Retry/Catch
 * match on (minification must not rename them).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, esbuildOptions } from '../../lib/constructs/bundling.js';
import { entryOf, HANDLERS } from '../../lib/handlers.js';
import { REPO_ROOT } from '../../lib/paths.js';

// Inside the repo so the external AWS SDK resolves from node_modules, as the runtime's would.
const OUT_DIR = path.join(REPO_ROOT, '.local', 'test-bundles', `record-audit-${process.pid}`);
const OUTFILE = path.join(OUT_DIR, 'index.mjs');

const lambdaContext = {
  functionName: 'record-audit',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:record-audit',
  memoryLimitInMB: '512',
  awsRequestId: 'bundling-test',
  logGroupName: '/aws/lambda/record-audit',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
};

beforeAll(async () => {
  await mkdir(OUT_DIR, { recursive: true });
  await build(esbuildOptions(entryOf(HANDLERS.recordAudit), OUTFILE));
});

afterAll(async () => {
  await rm(OUT_DIR, { recursive: true, force: true });
});

describe('record-audit bundle', () => {
  it('is an ESM bundle that starts with the createRequire banner and leaves the SDK external', async () => {
    // Prepare / Act
    const code = await readFile(OUTFILE, 'utf8');

    // Assess
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(code).toMatch(/from\s*"@aws-sdk\/client-s3"/);
  });

  it('rejects a malformed event with an error named ValidationError after minification', async () => {
    // Prepare
    const mod = (await import(pathToFileURL(OUTFILE).href)) as {
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    };

    // Act
    const outcome = mod.handler({ neither: 'draft nor failure' }, lambdaContext);

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
