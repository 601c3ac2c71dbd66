/**
 * Reads every stored audit record straight from the (local) audit bucket: integration tests
 * assert on what was written, not on what a reader API chooses to return.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { makeS3Client } from '../../functions/composition/runtime.js';
import { LOCAL_BUCKETS } from '../../local/local-stack.js';
import { LOCAL_CREDENTIALS } from '../../local/servers.js';

/** A stored record as JSON (`payload` is its canonical JSON string). */
export type RawAuditRecord = Record<string, unknown>;

/** Every record under `audit/` of the S3 emulator at `s3Endpoint`, sorted by (stream, seq). */
export async function readAuditObjects(s3Endpoint: string): Promise<RawAuditRecord[]> {
  const s3 = makeS3Client({ S3_ENDPOINT: s3Endpoint, AWS_REGION: 'us-east-1' }, LOCAL_CREDENTIALS);
  const out: RawAuditRecord[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: LOCAL_BUCKETS.audit,
        Prefix: 'audit/',
        ContinuationToken: token,
      }),
    );
    for (const obj of page.Contents ?? []) {
      const body = await s3.send(
        new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: obj.Key }),
      );
      const text = (await body.Body?.transformToString()) ?? '';
      for (const line of text.split('\n').filter(Boolean))
        out.push(JSON.parse(line) as RawAuditRecord);
    }
    token = page.NextContinuationToken;
  } while (token);
  return out.sort(
    (a, b) => String(a.stream).localeCompare(String(b.stream)) || Number(a.seq) - Number(b.seq),
  );
}
