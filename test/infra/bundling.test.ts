/**
 * The deployed bundle format, exercised for real: a handler bundled with the construct's
 * esbuild options (ESM + createRequire banner, minified, the AWS SDK bundled) loads in Node and
 * still throws errors whose `name` is the domain class name, which Step Functions Retry/Catch
 * match on (minification must not rename them). The bundle carries only what the function
 * uses: the SDK's credential chain is reduced to the environment (Lambda's source), and a
 * function that reads no market data bundles no market-data adapter. Sizes per function are
 * reported by `npm run bench -- bundles`, not asserted here.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BUNDLE_SETTINGS,
  ESM_REQUIRE_BANNER,
  esbuildOptions,
  nodejsBundlingOptions,
} from '../../lib/constructs/bundling.js';
import { APPROVAL_HANDLERS, entryOf, HANDLERS } from '../../lib/handlers.js';
import { REPO_ROOT } from '../../lib/paths.js';

// Inside the repo (git-ignored .local), like every build output of the tests.
const OUT_DIR = path.join(REPO_ROOT, '.local', 'test-bundles', `record-audit-${process.pid}`);
const OUTFILE = path.join(OUT_DIR, 'index.mjs');
/** A tiny entry that resolves an S3 client's credentials the way every deployed client does. */
const PROBE_ENTRY = path.join(OUT_DIR, 'credentials-probe.ts');
const PROBE_OUTFILE = path.join(OUT_DIR, 'credentials-probe.mjs');
/** A tiny entry that builds a multipart body the way the Slack SDK's form-data does. */
const FORM_ENTRY = path.join(OUT_DIR, 'form-probe.ts');
const FORM_OUTFILE = path.join(OUT_DIR, 'form-probe.mjs');
/** A tiny entry that loads Powertools Tracer (the X-Ray SDK) and captures an SDK client. */
const TRACER_ENTRY = path.join(OUT_DIR, 'tracer-probe.ts');
const TRACER_OUTFILE = path.join(OUT_DIR, 'tracer-probe.mjs');
/** functions/core/errors.ts bundled alone with the deployed options (minified, no keepNames). */
const ERRORS_OUTFILE = path.join(OUT_DIR, 'errors.mjs');
let inputs: string[] = [];
let formInputs: string[] = [];
let tracerInputs: string[] = [];
let probeInputs: string[] = [];

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
  const result = await build(esbuildOptions(entryOf(HANDLERS.recordAudit), OUTFILE));
  inputs = Object.keys((result.metafile as Metafile).inputs);
  await writeFile(
    PROBE_ENTRY,
    [
      "import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';",
      "import { Readable } from 'node:stream';",
      'export const credentials = () =>',
      "  new S3Client({ region: 'us-east-1' }).config.credentials();",
      '/** A PutObject through a request handler that answers 200 with an ETag (no network). */',
      'export const put = async () => {',
      '  const sent: { method: string; path: string }[] = [];',
      '  const client = new S3Client({',
      "    region: 'us-east-1',",
      "    credentials: { accessKeyId: 'AKIDPROBE', secretAccessKey: 'probe' },",
      '    requestHandler: {',
      '      handle: async (request: { method: string; path: string }) => {',
      '        sent.push({ method: request.method, path: request.path });',
      '        return {',
      "          response: { statusCode: 200, headers: { etag: 'probe-etag' }, body: Readable.from([]) },",
      '        };',
      '      },',
      '    },',
      '  });',
      "  const out = await client.send(new PutObjectCommand({ Bucket: 'probe-bucket', Key: 'a/b.json', Body: '{}' }));",
      '  return { etag: out.ETag, sent };',
      '};',
      '/** The event-stream marshaller the S3 client was built with. */',
      "export const marshaller = () => new S3Client({ region: 'us-east-1' }).config.eventStreamMarshaller;",
    ].join('\n'),
  );
  const probeBuild = await build(esbuildOptions(PROBE_ENTRY, PROBE_OUTFILE));
  probeInputs = Object.keys((probeBuild.metafile as Metafile).inputs);
  await writeFile(
    FORM_ENTRY,
    [
      "import '@slack/web-api';",
      "import FormData from 'form-data';",
      'export const partHeader = () => {',
      '  const form = new FormData();',
      "  form.append('file', Buffer.from('x'), { filename: 'chart.png' });",
      '  return form.getBuffer().toString();',
      '};',
    ].join('\n'),
  );
  const form = await build(esbuildOptions(FORM_ENTRY, FORM_OUTFILE));
  formInputs = Object.keys((form.metafile as Metafile).inputs);
  await writeFile(
    TRACER_ENTRY,
    [
      "import { S3Client } from '@aws-sdk/client-s3';",
      "import { Tracer } from '@aws-lambda-powertools/tracer';",
      'export const capture = () => {',
      "  const tracer = new Tracer({ serviceName: 'bundling-test' });",
      "  const client = tracer.captureAWSv3Client(new S3Client({ region: 'us-east-1' }));",
      '  return { client, tracingEnabled: tracer.isTracingEnabled() };',
      '};',
    ].join('\n'),
  );
  await build(
    esbuildOptions(path.join(REPO_ROOT, 'functions', 'core', 'errors.ts'), ERRORS_OUTFILE),
  );
  const traced = await build(esbuildOptions(TRACER_ENTRY, TRACER_OUTFILE));
  tracerInputs = Object.keys((traced.metafile as Metafile).inputs);
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

  it('bundles neither the market-data adapters nor the SDK credential sources Lambda never uses', () => {
    // Prepare: the inputs esbuild read for the record-audit bundle (beforeAll)
    const has = (fragment: string) => inputs.some((input) => input.includes(fragment));

    // Assess: the audit function reads no bars (stores.ts, not runtime.ts) ...
    expect(has('functions/adapters/market-data/')).toBe(false);
    expect(has('node_modules/adm-zip/')).toBe(false);
    expect(has('node_modules/csv-parse/')).toBe(false);
    // ... and its credential chain is the environment alone (no STS/SSO clients, no IMDS)
    expect(has('functions/adapters/aws/lambda-credentials.ts')).toBe(true);
    expect(has('@aws-sdk/credential-provider-node/')).toBe(false);
    expect(has('@aws-sdk/nested-clients/')).toBe(false);
    expect(has('@smithy/credential-provider-imds/')).toBe(false);
  });

  it('leaves the market-data adapters and the promotion pipeline out of the approval page too', async () => {
    // Prepare: the approval page's entry, bundled in memory with the deployed options
    const spec = APPROVAL_HANDLERS.approvalHttp;
    const options = esbuildOptions(entryOf(spec), path.join(OUT_DIR, 'approval-http.mjs'));

    // Act
    const result = await build({ ...options, write: false, sourcemap: false });
    const pageInputs = Object.keys((result.metafile as Metafile).inputs);
    const has = (fragment: string) => pageInputs.some((input) => input.includes(fragment));

    // Assess: its root is the approval flow's stores (approval.ts), not runtime.ts/promotion.ts
    expect(has('functions/composition/approval.ts')).toBe(true);
    expect(has('functions/composition/runtime.ts')).toBe(false);
    expect(has('functions/composition/promotion.ts')).toBe(false);
    expect(has('functions/adapters/market-data/')).toBe(false);
    expect(has('node_modules/adm-zip/')).toBe(false);
  });

  it('takes every SDK package from the one installed copy the tests import, never a nested one', () => {
    // Prepare: the SDK/Smithy packages esbuild read, with the node_modules path they came from
    const sdkInputs = inputs.filter((input) => /node_modules\/@(aws-sdk|smithy)\//.test(input));

    // Act: inputs reached through a second node_modules level (a different version)
    const nested = sdkInputs.filter((input) => input.split('node_modules/').length > 2);

    // Assess
    expect(sdkInputs.length).toBeGreaterThan(0);
    expect(nested).toEqual([]);
    expect(sdkInputs.every((input) => input.startsWith('node_modules/@'))).toBe(true);
  });
});

describe('the Slack SDK inside a bundle', () => {
  it('carries an empty MIME database: a file part goes out as application/octet-stream', async () => {
    // Prepare: the probe bundled with the Slack SDK and form-data (beforeAll)
    const probe = (await import(pathToFileURL(FORM_OUTFILE).href)) as {
      partHeader: () => string;
    };

    // Act
    const body = probe.partHeader();

    // Assess: no mime-db in the bundle, and form-data still builds the part
    expect(formInputs.some((i) => i.includes('node_modules/mime-db/'))).toBe(false);
    expect(formInputs.some((i) => i.includes('node_modules/debug/'))).toBe(false);
    expect(formInputs.some((i) => i.includes('node_modules/@slack/web-api/'))).toBe(true);
    expect(body).toContain('filename="chart.png"');
    expect(body).toContain('Content-Type: application/octet-stream');
  });
});

describe('the AWS SDK inside a bundle, without the event-stream codec', () => {
  it('sends a PutObject and reads its response through the bundled S3 client', async () => {
    // Prepare: the probe bundled with an S3 client (beforeAll)
    const probe = (await import(pathToFileURL(PROBE_OUTFILE).href)) as {
      put: () => Promise<{ etag?: string; sent: { method: string; path: string }[] }>;
    };

    // Act
    const out = await probe.put();

    // Assess: the codec is left out, the stand-in is in, and the request went out and back
    expect(probeInputs.some((i) => i.includes('submodules/event-streams/'))).toBe(false);
    expect(probeInputs).toContain('functions/adapters/aws/event-streams-none.ts');
    expect(out.sent).toEqual([{ method: 'PUT', path: expect.stringContaining('a/b.json') }]);
    expect(out.etag).toBe('probe-etag');
  });

  it('fails loudly, naming the cause, if an event-stream operation is ever called', async () => {
    // Prepare
    const probe = (await import(pathToFileURL(PROBE_OUTFILE).href)) as {
      marshaller: () => { serialize: () => unknown; deserialize: () => unknown };
    };

    // Act
    const marshaller = probe.marshaller();

    // Assess
    expect(() => marshaller.serialize()).toThrow(
      expect.objectContaining({ name: 'EventStreamsNotBundledError' }),
    );
    expect(() => marshaller.deserialize()).toThrow(/event streams are not bundled/);
  });
});

describe('domain errors inside a minified bundle', () => {
  it('keep their class name as `name`, the identifier Step Functions Retry/Catch match on', async () => {
    // Prepare: every exported error class of functions/core/errors.ts, bundled and minified
    const mod = (await import(pathToFileURL(ERRORS_OUTFILE).href)) as Record<string, unknown>;
    const classes = Object.entries(mod).filter(
      (e): e is [string, new (...args: unknown[]) => Error] =>
        typeof e[1] === 'function' && (e[1] as { prototype?: unknown }).prototype instanceof Error,
    );

    // Act: one instance of each (array arguments satisfy every constructor's string use and `.join`)
    const names = classes.map(([exported, Cls]) => [exported, new Cls([], [], [], [], []).name]);

    // Assess: the minifier renamed the classes, not the errors' names
    expect(classes.length).toBeGreaterThanOrEqual(30);
    for (const [exported, name] of names) expect(name).toBe(exported);
    expect(BUNDLE_SETTINGS.keepNames).toBe(false);
  });
});

describe('Powertools Tracer inside a bundle', () => {
  it('loads the X-Ray SDK on the semver stand-in and captures an SDK client', async () => {
    // Prepare: the probe bundled with Tracer and an S3 client (beforeAll)
    const probe = (await import(pathToFileURL(TRACER_OUTFILE).href)) as {
      capture: () => { client: { send: unknown }; tracingEnabled: boolean };
    };

    // Act: importing ran cls-hooked's Node-version check through the stand-in
    const { client } = probe.capture();

    // Assess: the X-Ray SDK is bundled, the semver package is not, and the client still sends
    expect(tracerInputs.some((i) => i.includes('node_modules/aws-xray-sdk-core/'))).toBe(true);
    expect(tracerInputs.some((i) => /node_modules\/(.*\/)?semver\//.test(i))).toBe(false);
    expect(tracerInputs).toContain('functions/adapters/aws/semver-gte.cjs');
    expect(typeof client.send).toBe('function');
  });
});

describe('the credential chain inside a bundle', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("resolves an SDK client's credentials from Lambda's environment variables", async () => {
    // Prepare: the variables Lambda sets for the execution role
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDBUNDLETEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'bundle-test-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'bundle-test-token');
    const probe = (await import(pathToFileURL(PROBE_OUTFILE).href)) as {
      credentials: () => Promise<{ accessKeyId: string; sessionToken?: string }>;
    };

    // Act
    const creds = await probe.credentials();

    // Assess
    expect(creds).toMatchObject({
      accessKeyId: 'AKIDBUNDLETEST',
      sessionToken: 'bundle-test-token',
    });
  });

  it('fails with a named credentials error when the variables are absent', async () => {
    // Prepare: no credentials in the environment (a bundle run outside Lambda)
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    const probe = (await import(pathToFileURL(PROBE_OUTFILE).href)) as {
      credentials: () => Promise<unknown>;
    };

    // Act
    const outcome = probe.credentials();

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: 'CredentialsProviderError' });
  });

  it('is passed to the CDK bundling as the same esbuild alias', () => {
    // Act
    const args = nodejsBundlingOptions().esbuildArgs;

    // Assess
    expect(args?.['--alias']).toEqual(
      Object.entries(BUNDLE_SETTINGS.alias).map(([from, to]) => `${from}=${to}`),
    );
  });
});
