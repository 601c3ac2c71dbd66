/**
 * {@link SecretsPort} adapters over AWS Secrets Manager, served by Powertools Parameters.
 *
 * - {@link powertoolsSecretReader}: a {@link SecretReader} over Powertools Parameters'
 *   `SecretsProvider` (`GetSecretValue`, SecretString or decoded SecretBinary), whose cache
 *   keeps a value for `maxAgeSeconds` (default 300 s) so a warm Lambda does not call the API
 *   per request yet picks up a rotation within minutes. Errors come back unwrapped from
 *   Powertools' `GetParameterError` (its `cause` is the SDK error), so callers see the SDK's
 *   names (throttling → `TransientError` through `rethrowAws`).
 * - {@link SecretsManagerSecrets}: the approval flow's three secrets by role. IAM:
 *   `secretsmanager:GetSecretValue` on the secrets (and `kms:Decrypt` when they are encrypted
 *   with a customer-managed key).
 *
 * (The local mode's secrets live in `local/composition.ts`: a fresh random approval key.)
 *
 * Secret values never appear in errors or logs: errors name the role (`approvalKey`...) only.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ValidationError } from '../../core/errors.js';
import type { SecretName, SecretsPort } from '../../ports/secrets.js';
import { rethrowAws } from '../aws-errors.js';

/**
 * Reads one secret's string value by id (ARN or name); undefined when it has no value.
 * @throws the SDK's error (e.g. `ThrottlingException`, `ResourceNotFoundException`).
 */
export type SecretReader = (secretId: string) => Promise<string | undefined>;

/** The SDK error a Powertools `GetParameterError` wraps, else `err` itself. */
function unwrapped(err: unknown): unknown {
  return err instanceof Error && err.name === 'GetParameterError' && err.cause !== undefined
    ? err.cause
    : err;
}

/**
 * A {@link SecretReader} over Powertools Parameters' `SecretsProvider` on `client` (traced by
 * the composition root), caching each value for `maxAgeSeconds`.
 */
export function powertoolsSecretReader(
  client: SecretsManagerClient,
  maxAgeSeconds = 300,
): SecretReader {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  return async (secretId) => {
    try {
      const value = await provider.get(secretId, { maxAge: maxAgeSeconds });
      return typeof value === 'string' && value !== '' ? value : undefined;
    } catch (err) {
      throw unwrapped(err);
    }
  };
}

/** Options of {@link SecretsManagerSecrets}. */
export interface SecretsManagerSecretsOptions {
  /** Reads (and caches) a secret; {@link powertoolsSecretReader} in AWS. */
  readonly read: SecretReader;
  /** Secret id (ARN or name) per role; a role without one is "not configured". */
  readonly secretIds: Readonly<Partial<Record<SecretName, string>>>;
}

export class SecretsManagerSecrets implements SecretsPort {
  constructor(private readonly options: SecretsManagerSecretsOptions) {}

  async get(name: SecretName): Promise<string> {
    const id = this.options.secretIds[name];
    if (!id) throw new ValidationError(`secrets.${name}`, 'no secret is configured for it');
    let value: string | undefined;
    try {
      value = await this.options.read(id);
    } catch (err) {
      rethrowAws(err, `read secret ${name}`);
    }
    if (!value) throw new ValidationError(`secrets.${name}`, 'the secret has no string value');
    return value;
  }
}
