/**
 * Shared helpers for the market-data tests: the real LEAN data root (read in place) and
 * throw-away LEAN trees under the OS temp folder, built with adm-zip.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

/** `../shared/data/lean` relative to the repository root. */
export const LEAN_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../shared/data/lean',
);

/** Zip bytes holding one CSV entry named `name` with `lines` joined by `\n`. */
export function zipCsv(name: string, lines: readonly string[]): Buffer {
  const zip = new AdmZip();
  zip.addFile(name, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
  return zip.toBuffer();
}

/** A temporary LEAN data root; `write` puts files in it, `dispose` removes it. */
export interface TempLeanRoot {
  readonly root: string;
  write(relPath: string, bytes: Buffer | string): Promise<void>;
  dispose(): Promise<void>;
}

export async function makeTempLeanRoot(): Promise<TempLeanRoot> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'stagegate-lean-'));
  return {
    root,
    async write(relPath, bytes) {
      const abs = path.join(root, relPath);
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, bytes);
    },
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/** ms since midnight for a wall-clock `hh:mm`. */
export const hm = (h: number, m: number): number => (h * 60 + m) * 60_000;

/** A valid equity minute trade row (prices in USD, written as deci-cents). */
export function tradeRow(ms: number, usd: number, volume = 100): string {
  const p = Math.round(usd * 10_000);
  return [ms, p, p, p, p, volume].join(',');
}

/** A valid equity minute quote row (prices in USD, written as deci-cents). */
export function quoteRow(ms: number, bidUsd: number, askUsd: number): string {
  const b = Math.round(bidUsd * 10_000);
  const a = Math.round(askUsd * 10_000);
  return [ms, b, b, b, b, 500, a, a, a, a, 700].join(',');
}
