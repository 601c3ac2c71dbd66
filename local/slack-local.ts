/**
 * The local stand-in for Slack (issue 15): the slash-command and interactivity handlers bound
 * to a local stack (served by the local console server at `POST /slack/commands` and
 * `POST /slack/interactivity`), the local signing secret, the local Slack users and the
 * request signing the CLI's `stagegate slack` does exactly as Slack would.
 *
 * - The signing secret is 32 random bytes kept in `<state>/slack-local.json` (mode 0600, the
 *   git-ignored state folder), created on first use; the running server and the CLI read the
 *   same file. It is never printed.
 * - Users: the dev stage's `slack.commandUsers` plus the local users below; `ULOCALALL` holds
 *   every role (the CLI's default), the others one role each (`--as <role>`).
 * - A running local server writes its URL to `<state>/slack-endpoint.json` and removes it on
 *   close, so the CLI posts to it instead of starting its own.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { slackSignature } from '../functions/adapters/slack/signature.js';
import {
  buildPlanDeps,
  buildSlashCommandDeps,
  chatOpsExtensions,
  SLACK_RESPONSE_URL,
  type SlashCommandHandlerDeps,
} from '../functions/composition/chatops.js';
import type { Role } from '../functions/core/console/roles.js';
import type { ChatOpsConfig } from '../functions/core/use-cases/chatops-commands.js';
import type { PlanDeps } from '../functions/core/use-cases/plans.js';
import type { SlashCommandExtensions } from '../functions/core/use-cases/slash-command.js';
import { systemClock } from '../functions/ports/clock.js';
import { chatOpsConfigOf } from '../lib/config/runtime-env.js';
import type { LocalHandler } from './asl-runner.js';
import { InMemorySecrets } from './composition.js';
import { localCohortStarter } from './local-cohort-starter.js';
import type { LocalStack } from './local-stack.js';

/** Local Slack users: id -> roles. */
export const LOCAL_SLACK_USERS: Readonly<Record<string, readonly Role[]>> = {
  ULOCALALL: ['viewer', 'operator', 'risk'],
  ULOCALVIEWER: ['viewer'],
  ULOCALOPERATOR: ['viewer', 'operator'],
  ULOCALRISK: ['viewer', 'risk'],
};

/** The local Slack user of `--as <role>` (every role when none is given). */
export function localSlackUser(role?: Role): string {
  return role ? `ULOCAL${role.toUpperCase()}` : 'ULOCALALL';
}

const SecretFileSchema = z.object({ signingSecret: z.string().min(32) });

/**
 * The local signing secret of `stateDir` (created on first use); `memory` makes a fresh one.
 * @throws Error naming the file when it is malformed.
 */
export async function localSigningSecret(stateDir: string | 'memory'): Promise<string> {
  const fresh = randomBytes(32).toString('base64url');
  if (stateDir === 'memory') return fresh;
  const file = path.join(path.resolve(stateDir), 'slack-local.json');
  if (!existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ signingSecret: fresh })}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  }
  const parsed = SecretFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: signingSecret: must be 32+ characters`);
  return parsed.data.signingSecret;
}

/** A loopback URL or Slack's hooks host (the local CLI receives follow-ups on loopback). */
export const localResponseUrlAllowed = (url: string): boolean =>
  SLACK_RESPONSE_URL.test(url) || /^http:\/\/127\.0\.0\.1:\d{1,5}\//.test(url);

/** The chat-ops handlers over a local stack. */
export interface LocalSlackHandlers {
  readonly deps: SlashCommandHandlerDeps;
  readonly commands: LocalHandler;
  readonly interactivity: LocalHandler;
}

/**
 * Binds the real slash-command and interactivity handlers to `stack` with `signingSecret`.
 * @param extra the commands other modules provide (plans, fund?, cohort start).
 */
export async function localSlackHandlers(
  stack: Pick<LocalStack, 'runtime' | 'promotion' | 'approvalDeps' | 'config' | 'intradayCohort'>,
  signingSecret: string,
  extra?: SlashCommandExtensions,
): Promise<LocalSlackHandlers> {
  const secrets = new InMemorySecrets({ slackSigningSecret: signingSecret });
  const deps = buildSlashCommandDeps(stack.runtime, {
    users: { ...stack.config.slack.commandUsers, ...LOCAL_SLACK_USERS },
    secrets,
    promotionDeps: () => stack.promotion,
    responseUrlAllowed: localResponseUrlAllowed,
    requestClock: systemClock,
    extra: {
      ...chatOpsExtensions(stack.runtime, localChatOpsConfig(stack.config), () =>
        localCohortStarter(stack.intradayCohort),
      ),
      ...extra,
    },
  });
  const [commandModule, interactivityModule] = await Promise.all([
    import('../functions/handlers/slack-command.js'),
    import('../functions/handlers/slack-interactivity.js'),
  ]);
  return {
    deps,
    commands: commandModule.createHandler(() => deps) as LocalHandler,
    interactivity: interactivityModule.createHandler(
      async () => {
        const approval = await stack.approvalDeps();
        const key = await approval.secrets.get('approvalKey');
        // Slack's timestamps are real time; the stack's clock may be a simulated session's.
        return {
          ...approval,
          clock: systemClock,
          secrets: new InMemorySecrets({ approvalKey: key, slackSigningSecret: signingSecret }),
        };
      },
      () => deps,
    ) as LocalHandler,
  };
}

/** The chat-ops settings of a stage config (what the CDK writes to `CHATOPS_CONFIG_JSON`). */
export function localChatOpsConfig(config: LocalStack['config']): ChatOpsConfig {
  return chatOpsConfigOf(config);
}

/** The plan use cases over a local stack: the stage's cohort bankroll, limits and gates. */
export function localPlanDeps(stack: Pick<LocalStack, 'runtime' | 'config'>): PlanDeps {
  const config = localChatOpsConfig(stack.config);
  return buildPlanDeps(stack.runtime, { ...config, policy: config.leveragePolicy });
}

/** Headers Slack signs a request with (v0 scheme) at `nowMs`. */
export function signedSlackHeaders(
  signingSecret: string,
  body: string,
  nowMs: number,
): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': slackSignature(signingSecret, ts, body),
  };
}

const EndpointFileSchema = z.object({ url: z.url(), pid: z.number().int().positive() });

const endpointFile = (stateDir: string) => path.join(path.resolve(stateDir), 'slack-endpoint.json');

/** Records the running server's base URL for the CLI (removed by {@link forgetEndpoint}). */
export async function recordEndpoint(stateDir: string, url: string): Promise<void> {
  await writeFile(endpointFile(stateDir), `${JSON.stringify({ url, pid: process.pid })}\n`);
}

/** Removes the endpoint record of this process. */
export async function forgetEndpoint(stateDir: string): Promise<void> {
  await rm(endpointFile(stateDir), { force: true });
}

/** The base URL of a running local server of `stateDir`, or null (none, or its process ended). */
export async function runningEndpoint(stateDir: string): Promise<string | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(endpointFile(stateDir), 'utf8'));
  } catch {
    return null;
  }
  const parsed = EndpointFileSchema.safeParse(raw);
  if (!parsed.success) return null;
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    return null;
  }
  return parsed.data.url;
}
