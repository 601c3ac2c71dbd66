/**
 * Whether `err` is DynamoDB's answer to a conditional write whose condition did not hold
 * (`ConditionalCheckFailedException`, HTTP 400): the item was not written, and retrying the
 * same write cannot succeed. Matched by name, so it holds for the SDK's class, a
 * document-client rethrow and DynamoDB Local alike.
 */
export const isConditionFailure = (err: unknown): boolean =>
  (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
