/**
 * `npm run bench`: runs every `bench/*.bench.ts` module (or those named on the command line),
 * writes each one's rows to `bench/results/<name>.json` and prints them as a table.
 *
 * Contract for a bench module: `export default async function (): Promise<BenchReport>`.
 * Benchmarks measure; they never fail on a target. Targets are printed beside the figures.
 */
import '../bin/cli-env.js';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchReport {
  /** File-safe name, e.g. `cohort-throughput`. */
  readonly name: string;
  /** What was measured and the target it is compared with. */
  readonly description: string;
  readonly rows: ReadonlyArray<Record<string, string | number | boolean>>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = (await readdir(here))
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  await mkdir(path.join(here, 'results'), { recursive: true });
  const machine = {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
  };
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
      default: () => Promise<BenchReport>;
    };
    const report = await mod.default();
    const out = { ...report, machine, measuredAt: new Date().toISOString() };
    await writeFile(
      path.join(here, 'results', `${report.name}.json`),
      `${JSON.stringify(out, null, 2)}\n`,
    );
    console.log(`\n## ${report.name}: ${report.description}`);
    console.table(report.rows);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
