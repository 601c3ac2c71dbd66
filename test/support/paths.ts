/** Paths shared by tests: the repo root and the real LEAN data beside it (`../shared/data/lean`). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA_ROOT =
  process.env.STAGEGATE_DATA ?? path.resolve(REPO_ROOT, '../shared/data/lean');
