/**
 * The deployed bundle format, exercised for real: a handler bundled with the construct's
 * esbuild options (ESM + createRequire banner, minified, the AWS SDK bundled) loads in Node and
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

// Inside the repo (git-ignored .local), like every build output of the tests.
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
  it('is an ESM bundle that starts with the createRequire banner and carries the tested SDK version', async () => {
    // Prepare: the SDK version the tests ran with (installed from package-lock.json)
    const sdk = JSON.parse(
      await readFile(path.join(REPO_ROOT, 'node_modules/@aws-sdk/client-s3/package.json'), 'utf8'),
    ) as { version: string };

    // Act
    const code = await readFile(OUTFILE, 'utf8');

    // Assess: nothing is left for the runtime's own SDK, and the bundled client is that version
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(code.match(/from\s*"@(aws-sdk|smithy)\/[^"]*"/g)).toBeNull();
    expect(code).toContain(`"${sdk.version}"`);
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
