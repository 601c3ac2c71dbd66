/**
 * The run report published to the artifacts bucket is readable through its presigned link
 * (against the real S3 emulator).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ReportPublisher } from '../../functions/adapters/s3/s3-report-publisher.js';
import { makeS3Client } from '../../functions/composition/runtime.js';
import { LOCAL_CREDENTIALS, type LocalServers, startLocalServers } from '../../local/servers.js';

let servers: LocalServers;
const BUCKET = 'reports-test';

beforeAll(async () => {
  servers = await startLocalServers({ buckets: [BUCKET] });
});

afterAll(async () => {
  await servers?.stop();
});

describe('S3ReportPublisher', () => {
  // (The emulator serves unsigned reads too; in AWS the bucket blocks public access, so the
  // presigned link is the only way in: asserted in test/infra.)
  it('serves the report through the presigned URL, expiring as asked', async () => {
    // Prepare
    const publisher = new S3ReportPublisher(
      makeS3Client({ S3_ENDPOINT: servers.s3Endpoint, AWS_REGION: 'us-east-1' }, LOCAL_CREDENTIALS),
      BUCKET,
    );
    const html =
      '<!doctype html><title>run report</title><svg data-chart="equity-2013-10-07"></svg>';

    // Act
    const url = await publisher.publish('reports/r1.html', html, 3600);

    // Assess
    expect(url).toContain('X-Amz-Signature=');
    expect(url).toContain('X-Amz-Expires=3600');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toBe(html);
  });
});
