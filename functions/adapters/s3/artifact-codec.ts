/**
 * The stagegate artifact format (`SGA1`): a JSON-compatible document whose long numeric
 * arrays (equity and exposure curves, timestamps, ...) are stored as columns of IEEE-754
 * float64 values instead of decimal text, the whole compressed. A 1,000-agent simulated
 * session is ~1.5 MB instead of ~10 MB of JSON, and decoding skips parsing ~800,000 numbers.
 *
 * Layout (little-endian):
 *
 *     bytes 0-3  magic "SGA1"
 *     byte  4    compression: 1 = deflate (raw, RFC 1951), 2 = Zstandard (RFC 8878)
 *     bytes 5-8  uint32, length of the uncompressed body
 *     body (compressed):
 *       uint32 H, then H bytes of UTF-8 JSON `{"columns":[n0,n1,...],"doc":<document>}` where
 *       the i-th extracted array is replaced by `{"$sga":i}`; zero padding to a multiple of 8;
 *       then the columns' float64 values back to back (n0 values, then n1, ...).
 *
 * What is a column: an array of at least {@link MIN_COLUMN} elements that are all numbers.
 * Float64 is exact for every JS number, and unlike JSON it keeps NaN, ±Infinity and −0.
 * A document with an object key `$sga` is refused (it would be ambiguous).
 *
 * Readers accept plain JSON too (artifacts written before this format).
 */
import zlib from 'node:zlib';
import { ValidationError } from '../../core/errors.js';

const MAGIC = Buffer.from('SGA1', 'latin1');
const MARKER = '$sga';
/** Shortest numeric array stored as a column (shorter ones stay in the JSON). */
export const MIN_COLUMN = 16;

const Compression = { Deflate: 1, Zstd: 2 } as const;

/** Content type recorded on stored artifacts. */
export const ARTIFACT_CONTENT_TYPE = 'application/vnd.stagegate.artifact';

const zstd = zlib as unknown as {
  zstdCompressSync?: (b: Buffer) => Buffer;
  zstdDecompressSync?: (b: Buffer) => Buffer;
};

function isNumericColumn(value: unknown[]): boolean {
  if (value.length < MIN_COLUMN) return false;
  for (const v of value) if (typeof v !== 'number') return false;
  return true;
}

/** Copies `value` with every numeric column replaced by a marker; collects the columns. */
function extract(value: unknown, columns: number[][]): unknown {
  if (Array.isArray(value)) {
    if (isNumericColumn(value)) {
      columns.push(value as number[]);
      return { [MARKER]: columns.length - 1 };
    }
    return value.map((v) => extract(v, columns));
  }
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return extract((value as { toJSON: () => unknown }).toJSON(), columns);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === MARKER) throw new ValidationError('artifact', `object key "${MARKER}" is reserved`);
    if (v !== undefined && typeof v !== 'function') out[k] = extract(v, columns);
  }
  return out;
}

/** Puts the columns back where their markers are (in place). */
function restore(value: unknown, columns: readonly number[][]): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = restore(value[i], columns);
    return value;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const marker = obj[MARKER];
  if (typeof marker === 'number') {
    const column = columns[marker];
    if (!column) throw new ValidationError('artifact', `column ${marker} is missing`);
    return column;
  }
  for (const k of Object.keys(obj)) obj[k] = restore(obj[k], columns);
  return obj;
}

/**
 * Encodes `document` in the SGA1 format: Zstandard when this Node has it (>= 22.15), else
 * deflate; `options.compression` forces one.
 *
 * @throws ValidationError('artifact') when an object of the document has the key `$sga`.
 */
export function encodeArtifact(
  document: unknown,
  options: { readonly compression?: 'zstd' | 'deflate' } = {},
): Buffer {
  const columns: number[][] = [];
  const doc = extract(document, columns);
  const header = Buffer.from(
    JSON.stringify({ columns: columns.map((c) => c.length), doc }),
    'utf8',
  );
  const headerEnd = 4 + header.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const total = columns.reduce((n, c) => n + c.length, 0);
  const body = Buffer.alloc(dataStart + total * 8);
  body.writeUInt32LE(header.length, 0);
  header.copy(body, 4);
  const values = new Float64Array(body.buffer, body.byteOffset + dataStart, total);
  let at = 0;
  for (const column of columns) {
    for (let i = 0; i < column.length; i++) values[at + i] = column[i] as number;
    at += column.length;
  }
  const wanted = options.compression ?? (zstd.zstdCompressSync ? 'zstd' : 'deflate');
  const compression = wanted === 'zstd' ? Compression.Zstd : Compression.Deflate;
  const packed =
    compression === Compression.Zstd
      ? (zstd.zstdCompressSync as (b: Buffer) => Buffer)(body)
      : zlib.deflateRawSync(body, { level: 6 });
  const prefix = Buffer.alloc(9);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt8(compression, 4);
  prefix.writeUInt32LE(body.length, 5);
  return Buffer.concat([prefix, packed]);
}

/** True when `bytes` starts with the SGA1 magic. */
export function isEncodedArtifact(bytes: Uint8Array): boolean {
  return bytes.length >= 9 && Buffer.from(bytes.buffer, bytes.byteOffset, 4).equals(MAGIC);
}

/**
 * Decodes an SGA1 artifact, or parses a plain JSON one (written before this format).
 *
 * @throws ValidationError('artifact') when the bytes are neither, are truncated, or use a
 *   compression this Node cannot decode.
 */
export function decodeArtifact(bytes: Uint8Array): unknown {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isEncodedArtifact(buf)) {
    try {
      return JSON.parse(buf.toString('utf8')) as unknown;
    } catch (err) {
      throw new ValidationError('artifact', `neither SGA1 nor JSON: ${(err as Error).message}`);
    }
  }
  const compression = buf.readUInt8(4);
  const length = buf.readUInt32LE(5);
  const packed = buf.subarray(9);
  let body: Buffer;
  try {
    if (compression === Compression.Zstd) {
      if (!zstd.zstdDecompressSync) {
        throw new Error(`Zstandard needs Node >= 22.15 (this is ${process.version})`);
      }
      body = zstd.zstdDecompressSync(packed);
    } else if (compression === Compression.Deflate) {
      body = zlib.inflateRawSync(packed);
    } else {
      throw new Error(`unknown compression ${compression}`);
    }
  } catch (err) {
    throw new ValidationError('artifact', `cannot decompress: ${(err as Error).message}`);
  }
  if (body.length !== length || length < 4) {
    throw new ValidationError('artifact', `truncated (${body.length} of ${length} bytes)`);
  }
  const headerLength = body.readUInt32LE(0);
  const parsed = JSON.parse(body.toString('utf8', 4, 4 + headerLength)) as {
    columns: number[];
    doc: unknown;
  };
  const dataStart = Math.ceil((4 + headerLength) / 8) * 8;
  const total = parsed.columns.reduce((n, c) => n + c, 0);
  if (dataStart + total * 8 !== body.length) {
    throw new ValidationError('artifact', 'column lengths do not match the body');
  }
  // Copy to an aligned buffer only if the decompressor returned an unaligned one.
  const aligned =
    (body.byteOffset + dataStart) % 8 === 0
      ? body
      : Buffer.from(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  const values = new Float64Array(aligned.buffer, aligned.byteOffset + dataStart, total);
  const columns: number[][] = [];
  let at = 0;
  for (const n of parsed.columns) {
    const column = new Array<number>(n);
    for (let i = 0; i < n; i++) column[i] = values[at + i] as number;
    columns.push(column);
    at += n;
  }
  return restore(parsed.doc, columns);
}
