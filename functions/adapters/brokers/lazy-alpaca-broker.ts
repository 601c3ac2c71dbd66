import * as z from 'zod';
import { BrokerAuthError, TransientError, ValidationError } from '../../core/errors.js';
import type { BrokerPort } from '../../ports/broker.js';
import { isTransientAwsError } from '../aws-errors.js';
import type { SecretReader } from '../secrets/secrets.js';
import { AlpacaPaperBroker } from './alpaca-paper-broker.js';

const PLACEHOLDER_KEY_ID = 'REPLACE_WITH_ALPACA_PAPER_KEY_ID';
const SecretSchema = z.object({ keyId: z.string().min(1), secretKey: z.string().min(1) });

/**
 * Loads the Alpaca paper keys from Secrets Manager (JSON `{keyId, secretKey}`) through `read`
 * (Powertools Parameters in AWS, `powertoolsSecretReader`), and refuses the placeholder the
 * stack creates the secret with.
 *
 * @throws BrokerAuthError when the secret is missing its keys or still holds the placeholder
 *   (never retried: an operator must fill it); TransientError on throttling or 5xx.
 */
export async function loadAlpacaKeys(
  read: SecretReader,
  secretArn: string,
): Promise<{ keyId: string; secretKey: string }> {
  let text: string | undefined;
  try {
    text = await read(secretArn);
  } catch (err) {
    if (isTransientAwsError(err))
      throw new TransientError('Alpaca secret unavailable', { cause: err });
    throw new BrokerAuthError(`Alpaca secret cannot be read (${(err as Error).name})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new BrokerAuthError('Alpaca secret is not JSON {"keyId","secretKey"}');
  }
  const keys = SecretSchema.safeParse(parsed);
  if (!keys.success) throw new BrokerAuthError('Alpaca secret lacks keyId/secretKey');
  if (keys.data.keyId === PLACEHOLDER_KEY_ID) {
    throw new BrokerAuthError(
      'Alpaca secret still holds the placeholder key id: fill it (docs/runbook.md)',
    );
  }
  return keys.data;
}

/**
 * The Alpaca paper broker behind a promise of its keys: its `name` is known without the
 * secret (staging records the broker without reading keys), and the keys are fetched on the
 * first call that needs the broker. Key material never leaves this module.
 */
export class LazyAlpacaBroker implements BrokerPort {
  readonly name = 'alpaca-paper' as const;
  private broker: Promise<AlpacaPaperBroker> | undefined;

  constructor(
    private readonly keys: () => Promise<{ keyId: string; secretKey: string }>,
    private readonly baseUrl?: string,
  ) {
    if (
      baseUrl !== undefined &&
      !/^https:\/\/paper-api\.alpaca\.markets\/?$|^http:\/\/127\.0\.0\.1:\d+\/?$/.test(baseUrl)
    ) {
      throw new ValidationError(
        'env.ALPACA_BASE_URL',
        'must be the Alpaca paper API (live trading is not a mode)',
      );
    }
  }

  private get(): Promise<AlpacaPaperBroker> {
    this.broker ??= this.keys().then(
      (k) => new AlpacaPaperBroker({ ...k, ...(this.baseUrl ? { baseUrl: this.baseUrl } : {}) }),
    );
    this.broker.catch(() => {
      this.broker = undefined; // a failed load is retried on the next call
    });
    return this.broker;
  }

  async submitOrder(request: Parameters<BrokerPort['submitOrder']>[0]) {
    return (await this.get()).submitOrder(request);
  }
  async getOrderByClientOrderId(clientOrderId: string) {
    return (await this.get()).getOrderByClientOrderId(clientOrderId);
  }
  async cancelOrder(clientOrderId: string) {
    return (await this.get()).cancelOrder(clientOrderId);
  }
  async listOpenOrders() {
    return (await this.get()).listOpenOrders();
  }
  async listPositions() {
    return (await this.get()).listPositions();
  }
  async getAccount() {
    return (await this.get()).getAccount();
  }
}
