import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  awsRequestCounts,
  awsRequestCountsByItem,
  makeDocumentClient,
  makeS3Client,
  requestItemKind,
  resetAwsRequestCounts,
} from '../../../functions/composition/stores.js';

const env = { AWS_REGION: 'us-east-1' } as const;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Answers every request with an empty output before it is serialized (no network). */
function stubbed<C extends { middlewareStack: { add: (...a: never[]) => void } }>(client: C): C {
  (client.middlewareStack.add as (mw: unknown, o: unknown) => void)(
    () => async () => ({ output: { $metadata: {} } }),
    { step: 'serialize', name: 'stubAnswer' },
  );
  return client;
}

describe('the composition root request counters', () => {
  beforeEach(() => resetAwsRequestCounts());

  it('counts each request by operation and by the kind of item it names', async () => {
    // Prepare
    const doc = stubbed(makeDocumentClient(env, credentials));
    const s3 = stubbed(makeS3Client(env, credentials));
    // Act
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'CONFIG', sk: 'KILL_SWITCH' } }));
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'CONFIG', sk: 'KILL_SWITCH' } }));
    await doc.send(
      new QueryCommand({
        TableName: 't',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'SESSION_BOOK#simulated:a#2013-10-08' },
      }),
    );
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: 't', Item: { pk: 'AUDIT_STREAM#promotion:p', sk: 'HEAD' } } },
        ],
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'audit/env=local/x.jsonl' }));
    // Assess
    const byItem = awsRequestCountsByItem();
    expect(byItem.get('dynamodb:GetItemCommand:CONFIG')).toBe(2);
    expect(byItem.get('dynamodb:QueryCommand:SESSION_BOOK')).toBe(1);
    expect(byItem.get('dynamodb:TransactWriteItemsCommand:AUDIT_STREAM')).toBe(1);
    expect(byItem.get('s3:PutObjectCommand:audit')).toBe(1);
    expect(awsRequestCounts().get('dynamodb:GetItemCommand')).toBe(2);
    resetAwsRequestCounts();
    expect(awsRequestCountsByItem().size).toBe(0);
  });
});

describe('requestItemKind', () => {
  it('reads the first partition key, plain or marshalled, up to its first #', () => {
    expect(requestItemKind('dynamodb', { Key: { pk: { S: 'SIMBROKER#acct' } } })).toBe('SIMBROKER');
    expect(requestItemKind('dynamodb', { Item: { pk: 'GENOME_POOL', sk: 'CURRENT' } })).toBe(
      'GENOME_POOL',
    );
    expect(
      requestItemKind('dynamodb', {
        IndexName: 'gsi1',
        ExpressionAttributeValues: { ':pk': { S: 'COHORTS' } },
      }),
    ).toBe('COHORTS (gsi1)');
  });

  it('names batch requests by their first item and S3 requests by the key prefix', () => {
    const batchGet = new BatchGetCommand({
      RequestItems: { t: { Keys: [{ pk: 'SIMBROKER#a', sk: 'ORDER#1' }] } },
    });
    expect(requestItemKind('dynamodb', batchGet.input)).toBe('SIMBROKER');
    expect(
      requestItemKind('dynamodb', {
        RequestItems: { t: [{ PutRequest: { Item: { pk: { S: 'COHORT#c' } } } }] },
      }),
    ).toBe('COHORT');
    expect(requestItemKind('s3', { Prefix: 'audit/env=local/dt=2013-10-08/' })).toBe('audit');
    expect(requestItemKind('dynamodb', { TableName: 't' })).toBe('-');
    expect(requestItemKind('s3', {})).toBe('-');
  });
});
