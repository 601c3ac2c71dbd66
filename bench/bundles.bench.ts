/**
 * Lambda bundle size and cold module-init time, per deployed function (intraday cohort,
 * promotion pipeline, learning cycle, Day-3 go/no-go and approval: `DEPLOYED_FUNCTIONS`; and
 * the audit compaction's verify-audit-day).
 *
 * Each handler is bundled with esbuild using the very options the CDK construct uses
 * (`esbuildOptions` from lib/constructs/bundling.ts), into `.local/bench/bundles/<handler>/`.
 * Init time = wall time of `await import(bundle)` measured inside a fresh `node` process
 * (same Node as the bench, NODE_OPTIONS as deployed, contract env vars set), median of RUNS.
 * The AWS SDK is bundled (version parity, lib/constructs/bundling.ts), so the figures include
 * it. Each row also splits the bundle into its parts (AWS SDK, zod, X-Ray SDK, Slack SDK,
 * Powertools+middy, own code, other; from esbuild's metafile), to aim a cut, and the size the
 * bundle would have if the SDK were left to the runtime (`runtimeSdkKb`, the alternative
 * docs/deploy.md weighs; not deployed).
 *
 * Targets: bundle < 500 KB, init < 150 ms. Benchmarks report, they never fail.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { environments } from '../lib/config/environments.js';
import { pipelineEnvironment } from '../lib/config/runtime-env.js';
import { AUDIT_COMPACTION_HANDLERS } from '../lib/constructs/audit-compaction.js';
import { esbuildOptions, RUNTIME_NODE_OPTIONS } from '../lib/constructs/bundling.js';
import { DEPLOYED_FUNCTIONS, entryOf } from '../lib/handlers.js';
import { REPO_ROOT } from '../lib/paths.js';
import type { BenchReport } from './run.js';

const run = promisify(execFile);

/** Init-time samples per bundle (`STAGEGATE_BENCH_BUNDLE_RUNS`, default 5). */
const RUNS = Number(process.env.STAGEGATE_BENCH_BUNDLE_RUNS ?? 5);
const TARGET_KB = 500;
const TARGET_INIT_MS = 150;
const OUT_DIR = path.join(REPO_ROOT, '.local', 'bench', 'bundles');

/** The environment every handler reads at the edge (values are placeholders). */
const HANDLER_ENV = {
  STAGE: 'dev',
  TABLE_NAME: 'stagegate-bench',
  ARTIFACTS_BUCKET: 'stagegate-bench-artifacts',
  AUDIT_BUCKET: 'stagegate-bench-audit',
  MARKET_DATA_URI: 's3://stagegate-bench-market-data/lean',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'stagegate/bench',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  AWS_REGION: 'us-east-1',
  NODE_OPTIONS: RUNTIME_NODE_OPTIONS,
  // The promotion pipeline's variables, as deployed for dev (read lazily, on first invoke).
  ...pipelineEnvironment(environments.dev),
};

/** Imports `file` in a fresh process and returns the import's wall time (ms). */
async function initMs(file: string): Promise<number> {
  const script =
    'const t0 = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t0));';
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', script, pathToFileURL(file).href],
    { env: { PATH: process.env.PATH ?? '', ...HANDLER_ENV }, cwd: path.dirname(file) },
  );
  return Number(stdout.trim());
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Output bytes per package (`src` for the repo's own code), from esbuild's metafile. */
function bytesByPackage(metafile: Metafile | undefined): Map<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'src';
      totals.set(pkg, (totals.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return totals;
}

/** The package (or `src`) contributing most bytes to the output, e.g. `zod 104 KB`. */
function largestInput(totals: ReadonlyMap<string, number>): string {
  const [name, bytes] = [...totals.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
  return `${name} ${Math.round(bytes / 1024)} KB`;
}

/**
 * What a bundle is made of (KB of minified output per part), so a cut can be aimed: the AWS
 * SDK (its clients, Smithy core and helpers), zod, the X-Ray SDK with its dependencies (loaded
 * by Powertools Tracer), the Slack SDK with axios and form-data, Powertools and middy, the
 * repo's own code, and the rest.
 */
const PARTS: readonly (readonly [string, RegExp])[] = [
  ['sdkKb', /^@(aws-sdk|smithy|aws-crypto|aws)\/|^(fast-xml-parser|strnum|tslib|bowser|uuid)$/],
  ['zodKb', /^zod$/],
  [
    'xrayKb',
    /^(aws-xray-sdk-core|cls-hooked|emitter-listener|shimmer|atomic-batcher|async-hook-jl|stack-chain)$/,
  ],
  [
    'slackKb',
    /^(@slack\/.*|axios|form-data|follow-redirects|proxy-from-env|mime-types|mime-db|asynckit|combined-stream|delayed-stream|p-queue|p-retry|p-timeout|eventemitter3|retry|is-stream|is-electron)$/,
  ],
  ['powertoolsMiddyKb', /^@(aws-lambda-powertools|middy)\//],
  ['ownCodeKb', /^src$/],
];

function composition(totals: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries([
    ...PARTS.map(([k]) => [k, 0]),
    ['otherKb', 0],
  ]);
  for (const [pkg, bytes] of totals) {
    const part = PARTS.find(([, re]) => re.test(pkg))?.[0] ?? 'otherKb';
    out[part] = (out[part] ?? 0) + bytes / 1024;
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k] ?? 0);
  return out;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The alternative weighed in docs/deploy.md ("AWS SDK version"): the same bundle with the AWS
 * SDK and its Smithy core left to the Lambda runtime's copy (what NodejsFunction does by
 * default on Node 18+), measured so the trade-off stays current. Not deployed.
 */
const RUNTIME_SDK_EXTERNAL = ['@aws-sdk/*', '@smithy/*'];

/** KB of the bundle built with {@link RUNTIME_SDK_EXTERNAL} (in memory, nothing written). */
async function runtimeSdkKb(entry: string, outfile: string): Promise<number> {
  const result = await build({
    ...esbuildOptions(entry, outfile),
    external: RUNTIME_SDK_EXTERNAL,
    sourcemap: false,
    metafile: false,
    write: false,
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  return round1((js?.contents.length ?? 0) / 1024);
}

export default async function bundlesBench(): Promise<BenchReport> {
  await rm(OUT_DIR, { recursive: true, force: true });
  const rows: Record<string, string | number | boolean>[] = [];
  // The audit compaction's verify-audit-day is deployed too, outside DEPLOYED_FUNCTIONS.
  for (const spec of [...DEPLOYED_FUNCTIONS, ...Object.values(AUDIT_COMPACTION_HANDLERS)]) {
    const outfile = path.join(OUT_DIR, spec.file, 'index.mjs');
    await mkdir(path.dirname(outfile), { recursive: true });
    const result = await build(esbuildOptions(entryOf(spec), outfile));
    const code = await readFile(outfile);
    const mapBytes = (await stat(`${outfile}.map`)).size;
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await initMs(outfile));
    const bundleKb = round1(code.length / 1024);
    const initMedian = round1(median(times));
    const totals = bytesByPackage(result.metafile);
    rows.push({
      handler: spec.file,
      bundleKb,
      gzipKb: round1(gzipSync(code).length / 1024),
      sourcemapKb: round1(mapBytes / 1024),
      largestInput: largestInput(totals),
      ...composition(totals),
      runtimeSdkKb: await runtimeSdkKb(entryOf(spec), outfile),
      initMsMedian: initMedian,
      initMsMin: round1(Math.min(...times)),
      initMsMax: round1(Math.max(...times)),
      runs: RUNS,
      withinTargets: bundleKb < TARGET_KB && initMedian < TARGET_INIT_MS,
    });
  }
  return {
    name: 'bundles',
    description: `Lambda bundles (esbuild, ESM, minified, AWS SDK bundled): size (target < ${TARGET_KB} KB) with its parts (KB of minified output: AWS SDK, zod, X-Ray SDK, Slack SDK, Powertools+middy, own code, other), the size it would have with the SDK left to the runtime (runtimeSdkKb, not deployed), and cold module-init time in a fresh node process, median of ${RUNS} (target < ${TARGET_INIT_MS} ms)`,
    rows,
  };
}
