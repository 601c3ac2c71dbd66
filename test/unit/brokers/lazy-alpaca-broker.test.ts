/**
 * Error mapping of the Alpaca key loader (a reader stub stands in for Secrets Manager: this
 * tests our mapping, not the service).
 */

import { describe, expect, it } from 'vitest';
import {
  LazyAlpacaBroker,
  loadAlpacaKeys,
} from '../../../functions/adapters/brokers/lazy-alpaca-broker.js';
import type { SecretReader } from '../../../functions/adapters/secrets/secrets.js';

const clientReturning =
  (value: { SecretString?: string } | Error): SecretReader =>
  async () => {
    if (value instanceof Error) throw value;
    return value.SecretString;
  };

describe('loadAlpacaKeys', () => {
  it('returns the keys of a filled secret', async () => {
    const client = clientReturning({
      SecretString: JSON.stringify({ keyId: 'PK123', secretKey: 's3cr3t' }),
    });
    await expect(loadAlpacaKeys(client, 'arn:secret')).resolves.toEqual({
      keyId: 'PK123',
      secretKey: 's3cr3t',
    });
  });

  it('refuses the placeholder the stack creates, without retry', async () => {
    const client = clientReturning({
      SecretString: JSON.stringify({
        keyId: 'REPLACE_WITH_ALPACA_PAPER_KEY_ID',
        secretKey: 'random',
      }),
    });
    await expect(loadAlpacaKeys(client, 'arn:secret')).rejects.toMatchObject({
      name: 'BrokerAuthError',
      retryable: false,
    });
  });

  it('maps throttling to a retryable TransientError and never echoes the secret', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(loadAlpacaKeys(clientReturning(throttled), 'arn:secret')).rejects.toMatchObject({
      name: 'TransientError',
    });
    const notJson = clientReturning({ SecretString: 'PKLEAK:supersecret' });
    const err = await loadAlpacaKeys(notJson, 'arn:secret').catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'BrokerAuthError' });
    expect(String((err as Error).message)).not.toContain('supersecret');
  });
});

describe('LazyAlpacaBroker', () => {
  it('knows its name without loading keys and refuses a live endpoint', () => {
    let loads = 0;
    const broker = new LazyAlpacaBroker(async () => {
      loads++;
      return { keyId: 'k', secretKey: 's' };
    });
    expect(broker.name).toBe('alpaca-paper');
    expect(loads).toBe(0);
    expect(
      () =>
        new LazyAlpacaBroker(
          async () => ({ keyId: 'k', secretKey: 's' }),
          'https://api.alpaca.markets',
        ),
    ).toThrow(/paper/);
  });
});
