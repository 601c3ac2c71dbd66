/**
 * One test file's DynamoDB Local (and s3rver with `buckets`), in memory: started before the
 * file's tests (`startLocalServers`, which waits on readiness with a bounded deadline), with a
 * DynamoDB client and a DocumentClient on it, all stopped after them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  startLocalServers,
} from '../../local/servers.js';

export interface LocalDynamo {
  readonly servers: LocalServers;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
}

/**
 * Registers the file's `beforeAll`/`afterAll`; call at module level. The returned object's
 * fields are set once `beforeAll` has run (read them inside tests and hooks only).
 */
export function useLocalDynamo(buckets: readonly string[] = []): LocalDynamo {
  const local = {} as {
    servers: LocalServers;
    client: DynamoDBClient;
    doc: DynamoDBDocumentClient;
  };
  beforeAll(async () => {
    local.servers = await startLocalServers({ dataDir: 'memory', buckets: [...buckets] });
    local.client = new DynamoDBClient({
      endpoint: local.servers.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    local.doc = DynamoDBDocumentClient.from(local.client);
  });
  afterAll(async () => {
    local.client?.destroy();
    await local.servers?.stop();
  });
  return local;
}
