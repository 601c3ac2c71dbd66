/**
 * A stand-in `DynamoDBDocumentClient` around a hand-written `send`, for adapter tests that
 * answer commands themselves. It is an instance of the SDK class (the SDK paginators such as
 * `paginateQuery` refuse any other client), with `send` replaced.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Wraps `send` (it receives the command object and returns its output). */
export function fakeDocumentClient(
  send: (command: never) => Promise<unknown>,
): DynamoDBDocumentClient {
  return Object.assign(Object.create(DynamoDBDocumentClient.prototype) as DynamoDBDocumentClient, {
    send,
  });
}
