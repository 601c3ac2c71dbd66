/**
 * Secrets the approval flow needs: the approval key (HMAC of links and CSRF tokens, and via
 * HKDF the task-token cipher), the Slack bot token and the Slack signing secret. In AWS they
 * live in Secrets Manager (`functions/adapters/secrets/secrets.ts`, `SecretsManagerSecrets`);
 * in local mode the local composition root holds them in memory (`local/composition.ts`), the
 * approval key being generated at random for each local runtime. A secret's value never goes to logs, links or audit.
 */

/** The secrets this deployment uses, by role. */
export type SecretName = 'approvalKey' | 'slackBotToken' | 'slackSigningSecret';

export interface SecretsPort {
  /**
   * The secret's current string value.
   *
   * @throws ValidationError (field `secrets.<name>`) when the secret is not configured or is
   *   empty.
   * @throws TransientError on throttling, 5xx or network faults.
   */
  get(name: SecretName): Promise<string>;
}
