/**
 * S3AuditReader.readRecords with a stream filter (`AuditReadQuery.streamPrefixes`): it chooses
 * the objects by the stream their key names, before any GET, so the records of other streams
 * are never fetched; what it returns is exactly the unfiltered read's records of the selected
 * streams. Against an in-memory S3 that counts its requests (the real emulator is exercised in
 * test/integration/audit and the daily report's integration test).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3AuditReader } from '../../../functions/adapters/audit/s3-audit-reader.js';
import type { VerifyInput } from '../../../functions/core/audit/verify.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { chain, gateDraft, seededPrng, T0, withKeys } from './fixtures.js';

/** Listing (one page) and GET over a key -> body map; counts the GETs by key. */
class CountingS3 {
  readonly objects = new Map<string, string>();
  readonly gets: string[] = [];
  async send(command: unknown): Promise<unknown> {
    await Promise.resolve();
    if (command instanceof ListObjectsV2Command) {
      const prefix = command.input.Prefix ?? '';
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      return { Contents: keys.map((Key) => ({ Key, Size: 1, ETag: '"e"' })), IsTruncated: false };
    }
    if (command instanceof GetObjectCommand) {
      const key = command.input.Key as string;
      this.gets.push(key);
      const body = this.objects.get(key) ?? '';
      return { Body: { transformToByteArray: async () => new TextEncoder().encode(body) } };
    }
    throw new Error(`unexpected S3 command ${String(command)}`);
  }
  client(): S3Client {
    return this as unknown as S3Client;
  }
}

/** Records of five streams (two promotions, and three others whose ids look alike). */
function stored(): { s3: CountingS3; inputs: VerifyInput[] } {
  const s3 = new CountingS3();
  const inputs = withKeys([
    ...chain(3, 'promotion:p-1'),
    ...chain(2, 'promotion:p-2', T0 + 30 * 60_000),
    ...chain(2, 'cohort:c-1'),
    ...chain(1, 'report:daily'),
    // Its id starts with `promotion` but it is not a promotion stream
    ...chain(1, 'promotions:x'),
  ]);
  for (const i of inputs) s3.objects.set(String(i.key), `${JSON.stringify(i.record)}\n`);
  // An object outside the key layout under the day's prefix: names no stream
  s3.objects.set('audit/env=local/dt=2024-03-04/stray.jsonl', '{"not":"a record"}\n');
  return { s3, inputs };
}

const streamOf = (i: VerifyInput) => (i.record as { stream: string }).stream;
const keyOf = (i: VerifyInput) => String(i.key);
const byKey = (a: VerifyInput, b: VerifyInput) => keyOf(a).localeCompare(keyOf(b));

describe('S3AuditReader.readRecords with streamPrefixes', () => {
  it('GETs only the objects of the selected streams and returns what the unfiltered read returns for them', async () => {
    // Prepare
    const { s3 } = stored();
    const reader = new S3AuditReader({ s3: s3.client(), bucket: 'audit' });
    const all = await reader.readRecords({ environment: 'local', date: '2024-03-04' });
    const unfilteredGets = s3.gets.length;
    s3.gets.length = 0;

    // Act
    const promotions = await reader.readRecords({
      environment: 'local',
      date: '2024-03-04',
      streamPrefixes: ['promotion:'],
    });

    // Assess: the 5 promotion objects were fetched, none of the 5 others
    expect(unfilteredGets).toBe(10);
    expect(s3.gets).toHaveLength(5);
    expect(s3.gets.every((k) => k.includes('/promotion_3Ap-'))).toBe(true);
    expect([...promotions].sort(byKey)).toEqual(
      all.filter((i) => keyOf(i).includes('/promotion_3Ap-')).sort(byKey),
    );
    expect(new Set(promotions.map(streamOf))).toEqual(new Set(['promotion:p-1', 'promotion:p-2']));
  });

  it('selects by prefix of the stream id: one promotion, several prefixes, or none', async () => {
    // Prepare
    const { s3 } = stored();
    const reader = new S3AuditReader({ s3: s3.client(), bucket: 'audit' });
    const read = async (streamPrefixes: readonly string[]) =>
      (await reader.readRecords({ environment: 'local', streamPrefixes })).map(streamOf);

    // Act + Assess
    expect(await read(['promotion:p-2'])).toEqual(['promotion:p-2', 'promotion:p-2']);
    expect(new Set(await read(['report:', 'cohort:']))).toEqual(
      new Set(['report:daily', 'cohort:c-1']),
    );
    expect(new Set(await read(['promotion']))).toEqual(
      new Set(['promotion:p-1', 'promotion:p-2', 'promotions:x']),
    );
    s3.gets.length = 0;
    expect(await read([])).toEqual([]);
    expect(s3.gets).toEqual([]);
  });
});

describe('MemoryAuditSink.readRecords with streamPrefixes', () => {
  it('returns the records of the selected streams only, as the S3 reader does', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(T0), seededPrng(1));
    await sink.append(gateDraft());
    await sink.append(gateDraft({ stream: 'cohort:c-1' }));

    // Act
    const read = await sink.readRecords({ environment: 'local', streamPrefixes: ['promotion:'] });

    // Assess
    expect(read.map(streamOf)).toEqual(['promotion:p-1']);
  });
});
