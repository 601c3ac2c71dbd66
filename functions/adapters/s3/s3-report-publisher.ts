import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ReportPublisher } from '../../ports/report-publisher.js';
import { rethrowAws } from '../aws-errors.js';

/** SigV4 presigned URLs live at most 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * {@link ReportPublisher} on the artifacts bucket: `text/html` objects (server-side encrypted
 * by the bucket) linked by a presigned GET URL. The URL is a bearer link to one read-only
 * report: it carries no secret of ours, only a time-limited signature.
 */
export class S3ReportPublisher implements ReportPublisher {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async publish(key: string, html: string, expiresInSeconds: number): Promise<string> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: html,
          ContentType: 'text/html; charset=utf-8',
        }),
      );
      return await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        expiresIn: Math.max(60, Math.min(MAX_PRESIGN_SECONDS, Math.floor(expiresInSeconds))),
      });
    } catch (err) {
      rethrowAws(err, `publish report s3://${this.bucket}/${key}`);
    }
  }
}
