import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from '../../core/errors.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { rethrowAws } from '../aws-errors.js';

/**
 * {@link ArtifactStore} on an S3 bucket (the artifacts bucket in AWS, the S3 emulator
 * locally). Documents are stored as `application/json`, server-side encrypted by the bucket.
 */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putJson(key: string, document: unknown): Promise<{ key: string; bytes: number }> {
    const body = JSON.stringify(document);
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
        }),
      );
    } catch (err) {
      rethrowAws(err, `put s3://${this.bucket}/${key}`);
    }
    return { key, bytes: Buffer.byteLength(body) };
  }

  async getJson(key: string): Promise<unknown> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = (await out.Body?.transformToString('utf-8')) ?? '';
      return JSON.parse(text) as unknown;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new NotFoundError('artifact', key);
      rethrowAws(err, `get s3://${this.bucket}/${key}`);
    }
  }
}
