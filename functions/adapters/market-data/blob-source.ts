/**
 * Byte sources for the LEAN market-data loader: the same loader reads the local filesystem
 * (local mode) and an S3 bucket (AWS) through the {@link BlobSource} port.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  DataFileMissingError,
  DataFolderMissingError,
  TransientError,
  ValidationError,
} from '../../core/errors.js';

/**
 * Read-only access to a tree of files addressed by POSIX relative paths
 * (e.g. `equity/usa/minute/spy/20131004_trade.zip`), relative to the source's root.
 */
export interface BlobSource {
  /**
   * The whole content of the file at `relPath`.
   * @throws DataFileMissingError when there is no such file.
   * @throws TransientError on a fault worth retrying (throttling, 5xx, network).
   * @throws ValidationError when `relPath` is absolute or escapes the root.
   */
  read(relPath: string): Promise<Uint8Array>;
  /**
   * Names (not paths) of the immediate children of the folder `relDir`, files and sub-folders
   * alike, sorted ascending, without trailing `/`. A folder that does not exist lists as `[]`.
   * @throws TransientError on a fault worth retrying.
   * @throws ValidationError when `relDir` is absolute or escapes the root.
   */
  list(relDir: string): Promise<string[]>;
}

/**
 * Normalises a relative POSIX path and rejects absolute paths and `..` escapes, so a caller
 * can never read outside the source's root. Returns `''` for the root itself.
 */
function normaliseRelPath(relPath: string): string {
  if (relPath.includes('\0') || relPath.startsWith('/') || relPath.includes('\\')) {
    throw new ValidationError(
      'relPath',
      `must be a relative POSIX path: ${JSON.stringify(relPath)}`,
    );
  }
  const norm = path.posix.normalize(relPath === '' ? '.' : relPath).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) {
    throw new ValidationError('relPath', `escapes the data root: ${JSON.stringify(relPath)}`);
  }
  return norm === '.' ? '' : norm;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Node errno codes that mean "no such file" for a read. */
const FS_MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
/** Node errno codes worth retrying (resource exhaustion, interrupted I/O). */
const FS_TRANSIENT = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR']);

/**
 * {@link BlobSource} over a local folder (local mode, tests, the CLI).
 *
 * Errors: a missing root folder → `DataFolderMissingError` naming it (from `read` and
 * `list` alike, so a wrong `--data` is never reported as an unknown symbol); a missing file →
 * `DataFileMissingError` (path = `relPath`); `EMFILE`/`EAGAIN`-like faults →
 * `TransientError`; anything else (e.g. `EACCES`) is rethrown unchanged.
 */
export class FileSystemBlobSource implements BlobSource {
  /** Absolute root folder, e.g. `/work/shared/data/lean`. */
  readonly rootDir: string;

  /** @param rootDir the folder relative paths are resolved against (made absolute). */
  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
  }

  async read(relPath: string): Promise<Uint8Array> {
    const rel = normaliseRelPath(relPath);
    const abs = path.join(this.rootDir, rel);
    try {
      return await readFile(abs);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== undefined && FS_MISSING.has(code)) {
        await this.assertRootExists();
        throw new DataFileMissingError(
          rel,
          `market data file not found: ${rel} (looked at ${abs})`,
        );
      }
      if (code !== undefined && FS_TRANSIENT.has(code)) {
        throw new TransientError(`reading ${abs} failed (${code})`, { cause: err });
      }
      throw err;
    }
  }

  async list(relDir: string): Promise<string[]> {
    const abs = path.join(this.rootDir, normaliseRelPath(relDir));
    try {
      return (await readdir(abs)).sort();
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        await this.assertRootExists();
        return [];
      }
      if (code !== undefined && FS_TRANSIENT.has(code)) {
        throw new TransientError(`listing ${abs} failed (${code})`, { cause: err });
      }
      throw err;
    }
  }

  /** @throws DataFolderMissingError when {@link rootDir} is not an existing folder. */
  private async assertRootExists(): Promise<void> {
    const isDir = await stat(this.rootDir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) throw new DataFolderMissingError(this.rootDir);
  }
}

/** S3 error names that mean the object does not exist. */
const S3_MISSING_NAMES = new Set(['NoSuchKey', 'NotFound']);
/** S3 / SDK error names worth retrying. */
const S3_TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);
/** Network-level error codes worth retrying. */
const NET_TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

function s3Status(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const meta = err.$metadata;
  return typeof meta === 'object' &&
    meta !== null &&
    'httpStatusCode' in meta &&
    typeof meta.httpStatusCode === 'number'
    ? meta.httpStatusCode
    : undefined;
}

/**
 * {@link BlobSource} over an S3 bucket (AWS runtime). Object key = `prefix` + `/` + relative
 * path (no leading slash when `prefix` is empty).
 *
 * Error mapping: `NoSuchKey` / `NotFound` / HTTP 404 on an object → `DataFileMissingError`
 * (path = `relPath`); throttling (`SlowDown`, 429), 5xx and network faults → `TransientError`
 * (the SDK has already applied its own retries by then); anything else (`AccessDenied`,
 * `NoSuchBucket`, ...) is a configuration fault and is rethrown unchanged.
 */
export class S3BlobSource implements BlobSource {
  private readonly prefix: string;

  /**
   * @param s3 an AWS SDK v3 S3 client (for an emulator: path-style, custom endpoint).
   * @param bucket bucket name.
   * @param prefix key prefix of the LEAN data root, e.g. `lean` (leading/trailing `/` ignored).
   */
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    prefix = '',
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
  }

  private key(rel: string): string {
    if (this.prefix === '') return rel;
    return rel === '' ? this.prefix : `${this.prefix}/${rel}`;
  }

  async read(relPath: string): Promise<Uint8Array> {
    const rel = normaliseRelPath(relPath);
    const key = this.key(rel);
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (out.Body === undefined) {
        throw new DataFileMissingError(rel, `S3 object has no body: s3://${this.bucket}/${key}`);
      }
      return await out.Body.transformToByteArray();
    } catch (err) {
      throw this.mapError(err, rel, `s3://${this.bucket}/${key}`, true);
    }
  }

  async list(relDir: string): Promise<string[]> {
    const rel = normaliseRelPath(relDir);
    const base = this.key(rel);
    const prefix = base === '' ? '' : `${base}/`;
    const names = new Set<string>();
    let token: string | undefined;
    try {
      do {
        const out = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: '/',
            ContinuationToken: token,
          }),
        );
        for (const cp of out.CommonPrefixes ?? []) {
          const name = cp.Prefix?.slice(prefix.length).replace(/\/$/, '');
          if (name) names.add(name);
        }
        for (const obj of out.Contents ?? []) {
          const name = obj.Key?.slice(prefix.length);
          if (name && !name.includes('/')) names.add(name);
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw this.mapError(err, rel, `s3://${this.bucket}/${prefix}`, false);
    }
    return [...names].sort();
  }

  private mapError(err: unknown, rel: string, where: string, isObjectRead: boolean): unknown {
    if (err instanceof DataFileMissingError) return err;
    const name = err instanceof Error ? err.name : '';
    const status = s3Status(err);
    if (isObjectRead && name !== 'NoSuchBucket' && (S3_MISSING_NAMES.has(name) || status === 404)) {
      return new DataFileMissingError(rel, `market data file not found: ${where}`);
    }
    const code = errnoCode(err);
    if (
      S3_TRANSIENT_NAMES.has(name) ||
      status === 429 ||
      (status !== undefined && status >= 500) ||
      (code !== undefined && NET_TRANSIENT_CODES.has(code))
    ) {
      return new TransientError(`S3 request for ${where} failed: ${name || code || status}`, {
        cause: err,
      });
    }
    return err;
  }
}
