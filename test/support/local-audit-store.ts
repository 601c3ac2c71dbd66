/**
 * Clients of the local audit store for integration tests over `startLocalServers`: an S3 client
 * of the s3rver emulator (path-style, checksums only when required, as s3rver answers) and a
 * DynamoDB document client of DynamoDB Local with the stream-heads table created.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
} from '../../local/servers.js';

/** A fresh S3 client of the local S3 emulator of `servers`. */
export function localS3Client(servers: LocalServers): S3Client {
  return new S3Client({
    endpoint: servers.s3Endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A document client of the DynamoDB Local of `servers`, after creating the table `tableName`
 * (idempotent: an existing table is kept).
 */
export async function localDynamoTable(
  servers: LocalServers,
  tableName: string,
): Promise<DynamoDBDocumentClient> {
  const ddb = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await ensureTable(ddb, tableName);
  return DynamoDBDocumentClient.from(ddb);
}

/**
 * `client`, after making every `PutObjectCommand` it sends throw `injected: S3 put lost`
 * before it reaches the emulator (an audit writer that dies before its objects are written).
 */
export function withFailingPuts(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand') throw new Error('injected: S3 put lost');
      return next(args);
    },
    { step: 'initialize', name: 'injectPutFailure' },
  );
  return client;
}
