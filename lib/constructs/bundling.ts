/**
 * One source of truth for how Lambda handlers are bundled. {@link StagegateFunction} turns it
 * into NodejsFunction `bundling` options and `bench/bundles.bench.ts` into esbuild build
 * options, so the benchmark measures exactly what is deployed.
 */
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { codeVersion } from '../../bin/code-version.mjs';
import { REPO_ROOT } from '../paths.js';

/**
 * ESM output needs a `require` for the CommonJS dependencies esbuild inlines (its `__require`
 * shim calls the global `require`, which ESM lacks); `createRequire` provides one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __stagegateCreateRequire } from 'node:module';const require = __stagegateCreateRequire(import.meta.url);";

/** Bundle settings shared by the deployed functions and the bundle benchmark. */
export const BUNDLE_SETTINGS = {
  /** Matches the Lambda runtime (nodejs22.x). */
  target: 'node22',
  format: 'esm',
  platform: 'node',
  minify: true,
  /**
   * Names are not kept through minification (keepNames cost ~40-60 KB per function: a
   * `__name` call for every class and function of every dependency). A named domain error's
   * `name`, which Step Functions Retry/Catch match on (docs/architecture.md), is a string
   * literal field of its class (`functions/core/errors.ts`), so minification cannot change it;
   * `test/infra/bundling.test.ts` checks every domain error's name inside a minified bundle.
   */
  keepNames: false,
  /** External `.map` file; the runtime loads it via NODE_OPTIONS=--enable-source-maps. */
  sourcemap: true,
  /** Maps point at file:line without embedding the sources (smaller artifact). */
  sourcesContent: false,
  /** Prefer ESM entry points of dependencies (better tree shaking). */
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  /**
   * Nothing is external: the AWS SDK v3 (and its Smithy core) is bundled, so Lambda runs the
   * exact SDK version `package-lock.json` pins and the tests ran, not whatever the nodejs22.x
   * runtime ships that month. Cost: the SDK core, S3 and DynamoDB clients are ~345 KB minified
   * per handler, above the 500 KB bundle target together with zod and the X-Ray SDK; chosen
   * for version parity (docs/deploy.md, "AWS SDK version"). `test/infra/bundling.test.ts`
   * asserts the SDK is inside the bundle.
   */
  external: [] as string[],
  /**
   * Import paths replaced inside the bundle (paths relative to the repo root, where both the
   * CDK's local esbuild and {@link esbuildOptions} run). The SDK's default credential chain
   * becomes Lambda's own source, the environment (`functions/adapters/aws/lambda-credentials.ts`):
   * the chain's SSO/STS/INI/IMDS providers and their nested clients are ~100 KB per function
   * that a Lambda never calls. Tests and the local mode run unbundled with the full chain.
   * `mime-db` (134 KB of MIME types, pulled in by the Slack SDK's axios/form-data to name the
   * content type of an uploaded file) becomes an empty database
   * (`functions/adapters/slack/mime-db-empty.cjs`): stagegate uploads no file to Slack, and a
   * file part would go out as application/octet-stream.
   * `semver` (~27 KB, reached only through the X-Ray SDK under Powertools Tracer: cls-hooked's
   * Node-version check and the unused AWS SDK v2 patcher) becomes a plain-version `gte`
   * (`functions/adapters/aws/semver-gte.cjs`), which throws on anything else.
   * `@smithy/core/event-streams` (~15 KB: the codec of the S3 and Lambda operations that stream
   * events, `SelectObjectContent` and `InvokeWithResponseStream`, which stagegate never calls)
   * becomes a marshaller that throws on use (`functions/adapters/aws/event-streams-none.ts`).
   * `debug` (~10 KB with ms and supports-color, reached only through the Slack SDK's HTTP stack,
   * logging only when DEBUG names it, which no function sets) becomes loggers that are off
   * (`functions/adapters/slack/debug-off.cjs`).
   */
  alias: {
    '@aws-sdk/credential-provider-node': './functions/adapters/aws/lambda-credentials.ts',
    '@smithy/core/event-streams': './functions/adapters/aws/event-streams-none.ts',
    debug: './functions/adapters/slack/debug-off.cjs',
    'mime-db': './functions/adapters/slack/mime-db-empty.cjs',
    semver: './functions/adapters/aws/semver-gte.cjs',
  } as Readonly<Record<string, string>>,
} as const;

/**
 * esbuild `define` of every bundle: the code version (bin/code-version.mjs, computed now, at
 * synth/build time), which functions/config/code-version.ts exposes and every audit record
 * carries.
 */
export function codeVersionDefine(): Record<string, string> {
  return { __STAGEGATE_CODE_VERSION__: JSON.stringify(codeVersion(REPO_ROOT)) };
}

/** NODE_OPTIONS every function runs with (source-mapped stack traces). */
export const RUNTIME_NODE_OPTIONS = '--enable-source-maps';

/** {@link BUNDLE_SETTINGS} as NodejsFunction `bundling` options. */
export function nodejsBundlingOptions(): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: BUNDLE_SETTINGS.target,
    minify: BUNDLE_SETTINGS.minify,
    keepNames: BUNDLE_SETTINGS.keepNames,
    sourceMap: BUNDLE_SETTINGS.sourcemap,
    sourcesContent: BUNDLE_SETTINGS.sourcesContent,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    banner: BUNDLE_SETTINGS.banner,
    externalModules: [...BUNDLE_SETTINGS.external],
    esbuildArgs: { '--alias': Object.entries(BUNDLE_SETTINGS.alias).map(([k, v]) => `${k}=${v}`) },
    define: codeVersionDefine(),
  };
}

/**
 * {@link BUNDLE_SETTINGS} as esbuild `build()` options (structurally typed so this module does
 * not import esbuild at synth time).
 *
 * @param entry absolute path of the handler's TypeScript entry.
 * @param outfile absolute path of the `.mjs` file to write.
 */
export function esbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: BUNDLE_SETTINGS.platform,
    format: BUNDLE_SETTINGS.format,
    target: BUNDLE_SETTINGS.target,
    minify: BUNDLE_SETTINGS.minify,
    keepNames: BUNDLE_SETTINGS.keepNames,
    sourcemap: BUNDLE_SETTINGS.sourcemap,
    sourcesContent: BUNDLE_SETTINGS.sourcesContent,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    banner: { js: BUNDLE_SETTINGS.banner },
    external: [...BUNDLE_SETTINGS.external],
    alias: { ...BUNDLE_SETTINGS.alias },
    absWorkingDir: REPO_ROOT,
    define: codeVersionDefine(),
    metafile: true,
    logLevel: 'warning' as const,
  };
}
