/**
 * {@link SecretsPort} adapters.
 *
 * - {@link SecretsManagerSecrets}: AWS Secrets Manager `GetSecretValue` (SecretString) by
 *   secret ARN or name, cached in memory for `cacheTtlMs` (default 5 minutes) so a warm Lambda
 *   does not call the API per request yet picks up a rotation within minutes. IAM:
 *   `secretsmanager:GetSecretValue` on the three secrets (and `kms:Decrypt` when they are
 *   encrypted with a customer-managed key).
 *
 * (The local mode's secrets live in `local/composition.ts`: a fresh random approval key.)
 *
 * Secret values never appear in errors or logs: errors name the role (`approvalKey`...) only.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ValidationError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { SecretName, SecretsPort } from '../../ports/secrets.js';
import { rethrowAws } from '../aws-errors.js';

/** Options of {@link SecretsManagerSecrets}. */
export interface SecretsManagerSecretsOptions {
  readonly client: SecretsManagerClient;
  /** Secret id (ARN or name) per role; a role without one is "not configured". */
  readonly secretIds: Readonly<Partial<Record<SecretName, string>>>;
  readonly clock: Clock;
  /** How long a value is reused, ms. @default 300_000 */
  readonly cacheTtlMs?: number;
}

export class SecretsManagerSecrets implements SecretsPort {
  private readonly cache = new Map<SecretName, { value: string; atMs: number }>();

  constructor(private readonly options: SecretsManagerSecretsOptions) {}

  async get(name: SecretName): Promise<string> {
    const ttl = this.options.cacheTtlMs ?? 300_000;
    const now = this.options.clock.now();
    const hit = this.cache.get(name);
    if (hit && now - hit.atMs < ttl) return hit.value;
    const id = this.options.secretIds[name];
    if (!id) throw new ValidationError(`secrets.${name}`, 'no secret is configured for it');
    let value: string | undefined;
    try {
      const out = await this.options.client.send(new GetSecretValueCommand({ SecretId: id }));
      value = out.SecretString;
    } catch (err) {
      rethrowAws(err, `read secret ${name}`);
    }
    if (!value) throw new ValidationError(`secrets.${name}`, 'the secret has no string value');
    this.cache.set(name, { value, atMs: now });
    return value;
  }
}
