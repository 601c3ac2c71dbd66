/**
 * Remembers which state machine definitions `aws-local-stepfunctions` has already validated
 * (schema, JSONPath and ARN checks), so each definition is validated once per content, not at
 * every start of the local stack. A definition is known valid when a marker named by the
 * SHA-256 of (interpreter version, validation options, definition JSON) exists under
 * `node_modules/.cache/stagegate/asl-valid/`. Only successful validations are recorded; an
 * unwritable cache folder just means validating again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(repoRoot, 'node_modules', '.cache', 'stagegate', 'asl-valid');

let interpreterVersion: string | undefined;

function version(): string {
  if (interpreterVersion === undefined) {
    try {
      const pkg = path.join(repoRoot, 'node_modules', 'aws-local-stepfunctions', 'package.json');
      interpreterVersion = String(
        (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: unknown }).version,
      );
    } catch {
      interpreterVersion = 'unknown';
    }
  }
  return interpreterVersion;
}

function markerOf(definition: unknown, options: unknown): string {
  const hash = createHash('sha256')
    .update(`${version()}\0${JSON.stringify(options)}\0${JSON.stringify(definition)}`)
    .digest('hex');
  return path.join(cacheDir, hash);
}

/**
 * The cache entry of `definition` under `options`, keyed NOW: `aws-local-stepfunctions`
 * normalizes the definition object it is given while it validates, so a key computed after
 * the validation would never match the next start's (unvalidated) definition.
 */
export function validationEntry(
  definition: unknown,
  options: unknown,
): { readonly known: boolean; remember(): void } {
  const marker = markerOf(definition, options);
  return {
    known: existsSync(marker),
    remember: () => {
      writeMarker(marker);
    },
  };
}

function writeMarker(marker: string): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(marker, '');
  } catch {
    // read-only node_modules: validate again next time
  }
}

/** True when this exact definition passed validation with these options before. */
export function isKnownValid(definition: unknown, options: unknown): boolean {
  return existsSync(markerOf(definition, options));
}

/** Records that `definition` passed validation with `options`. */
export function rememberValid(definition: unknown, options: unknown): void {
  writeMarker(markerOf(definition, options));
}
