import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from '../../core/errors.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { rethrowAws } from '../aws-errors.js';
import { ARTIFACT_CONTENT_TYPE, decodeArtifact, encodeArtifact } from './artifact-codec.js';

/**
 * {@link ArtifactStore} on an S3 bucket (the artifacts bucket in AWS, the S3 emulator
 * locally). Documents are stored in the compact SGA1 format (`artifact-codec.ts`: numeric
 * arrays as float64 columns, compressed), server-side encrypted by the bucket; one PUT per
 * write and one GET per read. Plain JSON objects (written before SGA1) are still read.
 */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putJson(key: string, document: unknown): Promise<{ key: string; bytes: number }> {
    const body = encodeArtifact(document);
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: ARTIFACT_CONTENT_TYPE,
        }),
      );
    } catch (err) {
      rethrowAws(err, `put s3://${this.bucket}/${key}`);
    }
    return { key, bytes: body.length };
  }

  async getJson(key: string): Promise<unknown> {
    let bytes: Uint8Array;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      bytes = (await out.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new NotFoundError('artifact', key);
      rethrowAws(err, `get s3://${this.bucket}/${key}`);
    }
    return decodeArtifact(bytes);
  }
}
