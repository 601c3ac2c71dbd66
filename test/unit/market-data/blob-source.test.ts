import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileSystemBlobSource,
  S3BlobSource,
} from '../../../functions/adapters/market-data/blob-source.js';
import {
  DataFileMissingError,
  TransientError,
  ValidationError,
} from '../../../functions/core/errors.js';
import { LEAN_ROOT, makeTempLeanRoot, type TempLeanRoot } from './fixtures.js';

describe('FileSystemBlobSource', () => {
  let tmp: TempLeanRoot;

  beforeEach(async () => {
    tmp = await makeTempLeanRoot();
    await tmp.write('a/b/one.zip', 'one');
    await tmp.write('a/b/two.zip', 'two');
    await tmp.write('a/c/three.zip', 'three');
  });

  afterEach(async () => {
    await tmp.dispose();
  });

  it('reads a file as bytes', async () => {
    // Prepare
    const src = new FileSystemBlobSource(tmp.root);

    // Act
    const bytes = await src.read('a/b/two.zip');

    // Assess
    expect(Buffer.from(bytes).toString('utf8')).toBe('two');
  });

  it('lists immediate children, sorted, and [] for a missing folder', async () => {
    // Prepare
    const src = new FileSystemBlobSource(tmp.root);

    // Act
    const root = await src.list('a');
    const leaf = await src.list('a/b/');
    const missing = await src.list('nope/nothing');

    // Assess
    expect(root).toEqual(['b', 'c']);
    expect(leaf).toEqual(['one.zip', 'two.zip']);
    expect(missing).toEqual([]);
  });

  it('throws DataFileMissingError with the relative path for a missing file or a folder', async () => {
    // Prepare
    const src = new FileSystemBlobSource(tmp.root);

    // Act
    const missing = src.read('a/b/zero.zip');
    const folder = src.read('a/b');

    // Assess
    await expect(missing).rejects.toBeInstanceOf(DataFileMissingError);
    await expect(missing).rejects.toMatchObject({ path: 'a/b/zero.zip' });
    await expect(folder).rejects.toBeInstanceOf(DataFileMissingError);
  });

  it('refuses paths that escape the root', async () => {
    // Prepare
    const src = new FileSystemBlobSource(`${tmp.root}/a`);

    // Act
    const up = src.read('../a/b/one.zip');
    const sneaky = src.list('b/../../..');
    const absolute = src.read('/etc/hostname');

    // Assess
    await expect(up).rejects.toBeInstanceOf(ValidationError);
    await expect(sneaky).rejects.toBeInstanceOf(ValidationError);
    await expect(absolute).rejects.toBeInstanceOf(ValidationError);
  });

  it('lists the real LEAN equity minute symbols', async () => {
    // Prepare
    const src = new FileSystemBlobSource(LEAN_ROOT);

    // Act
    const symbols = await src.list('equity/usa/minute');

    // Assess
    expect(symbols).toEqual(['aig', 'bac', 'ibm', 'spy']);
  });
});

/** An S3 client stand-in: records each command's input and answers from `reply`. */
function stubS3(reply: (name: string, input: Record<string, unknown>) => unknown): {
  client: S3Client;
  calls: Array<{ name: string; input: Record<string, unknown> }>;
} {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push({ name, input: command.input });
      return reply(name, command.input);
    },
  } as unknown as S3Client;
  return { client, calls };
}

const s3Error = (name: string, status: number): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('S3BlobSource', () => {
  it('reads the object under the prefix', async () => {
    // Prepare
    const { client, calls } = stubS3(() => ({
      Body: { transformToByteArray: async () => new Uint8Array([1, 2, 3]) },
    }));
    const src = new S3BlobSource(client, 'data-bucket', '/lean/');

    // Act
    const bytes = await src.read('equity/usa/daily/spy.zip');

    // Assess
    expect([...bytes]).toEqual([1, 2, 3]);
    expect(calls).toEqual([
      {
        name: 'GetObjectCommand',
        input: { Bucket: 'data-bucket', Key: 'lean/equity/usa/daily/spy.zip' },
      },
    ]);
  });

  it('lists folders and files across pages', async () => {
    // Prepare
    const pages: Record<string, unknown> = {
      first: {
        IsTruncated: true,
        NextContinuationToken: 'page-2',
        CommonPrefixes: [{ Prefix: 'lean/equity/usa/minute/spy/' }],
        Contents: [{ Key: 'lean/equity/usa/minute/README' }],
      },
      'page-2': {
        IsTruncated: false,
        CommonPrefixes: [{ Prefix: 'lean/equity/usa/minute/aig/' }],
      },
    };
    const { client, calls } = stubS3(
      (_name, input) => pages[(input.ContinuationToken as string | undefined) ?? 'first'],
    );
    const src = new S3BlobSource(client, 'data-bucket', 'lean');

    // Act
    const names = await src.list('equity/usa/minute');

    // Assess
    expect(names).toEqual(['README', 'aig', 'spy']);
    expect(calls.map((c) => c.input)).toEqual([
      {
        Bucket: 'data-bucket',
        Prefix: 'lean/equity/usa/minute/',
        Delimiter: '/',
        ContinuationToken: undefined,
      },
      {
        Bucket: 'data-bucket',
        Prefix: 'lean/equity/usa/minute/',
        Delimiter: '/',
        ContinuationToken: 'page-2',
      },
    ]);
  });

  it.each([
    ['NoSuchKey', 404, DataFileMissingError],
    ['UnknownError', 404, DataFileMissingError],
    ['SlowDown', 503, TransientError],
    ['InternalError', 500, TransientError],
    ['TooManyRequestsException', 429, TransientError],
  ])('maps %s (HTTP %i) on read to %o', async (name, status, expected) => {
    // Prepare
    const { client } = stubS3(() => {
      throw s3Error(name, status);
    });
    const src = new S3BlobSource(client, 'data-bucket');

    // Act
    const act = src.read('equity/usa/daily/spy.zip');

    // Assess
    await expect(act).rejects.toBeInstanceOf(expected);
  });

  it('names the relative path in DataFileMissingError', async () => {
    // Prepare
    const { client } = stubS3(() => {
      throw s3Error('NoSuchKey', 404);
    });
    const src = new S3BlobSource(client, 'data-bucket', 'lean');

    // Act
    const act = src.read('equity/usa/minute/spy/20131004_quote.zip');

    // Assess
    await expect(act).rejects.toMatchObject({ path: 'equity/usa/minute/spy/20131004_quote.zip' });
    await expect(act).rejects.toThrow(/s3:\/\/data-bucket\/lean\/equity/);
  });

  it('marks throttled listings as transient', async () => {
    // Prepare
    const { client } = stubS3(() => {
      throw s3Error('SlowDown', 503);
    });
    const src = new S3BlobSource(client, 'data-bucket');

    // Act
    const act = src.list('equity/usa/minute');

    // Assess
    await expect(act).rejects.toBeInstanceOf(TransientError);
    await expect(act).rejects.toMatchObject({ retryable: true });
  });

  it('rethrows configuration faults (AccessDenied, NoSuchBucket) unchanged', async () => {
    // Prepare
    const denied = s3Error('AccessDenied', 403);
    const noBucket = s3Error('NoSuchBucket', 404);
    const a = new S3BlobSource(stubS3(() => Promise.reject(denied)).client, 'b');
    const b = new S3BlobSource(stubS3(() => Promise.reject(noBucket)).client, 'b');

    // Act
    const readDenied = a.read('x.zip');
    const readNoBucket = b.read('x.zip');

    // Assess
    await expect(readDenied).rejects.toBe(denied);
    await expect(readNoBucket).rejects.toBe(noBucket);
  });
});
