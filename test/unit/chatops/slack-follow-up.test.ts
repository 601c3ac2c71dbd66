/**
 * The slash-command handler's acknowledgement and follow-up as deployed: a long command
 * (cohort start) is acknowledged at once ("working") and handed to an asynchronous invocation
 * (here: the queued event, delivered to the same handler afterwards, as Lambda would); the
 * follow-up does the work and posts the answer to response_url, a fake Slack on loopback.
 * Also: a follow-up to a host not allowed posts nothing; a follow-up shape posted over HTTP
 * is just an unsigned request (401); a kill-switch click on the function's own
 * interactivity route acts after the clicker's role check.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SLASH_FOLLOW_UP_SOURCE,
  type SlashFollowUpEvent,
  SlashFollowUpEventSchema,
} from '../../../functions/adapters/slack/follow-up.js';
import { SLACK_ACTION_IDS } from '../../../functions/adapters/slack/messages.js';
import type { SlashCommandHandlerDeps } from '../../../functions/composition/chatops.js';
import { createHandler } from '../../../functions/handlers/slack-command.js';
import { systemClock } from '../../../functions/ports/clock.js';
import type { KillSwitchState } from '../../../functions/ports/kill-switch.js';
import { httpApiEvent } from '../../../local/approval-server.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { InMemorySecrets } from '../../../local/composition.js';
import { signedSlackHeaders } from '../../../local/slack-local.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const SECRET = 'a-local-signing-secret-of-32-characters-or-more';

let slack: Server;
let slackUrl: string;
const posted: { path: string; body: Record<string, unknown> }[] = [];
let onPost: (() => void) | null = null;

beforeAll(async () => {
  slack = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posted.push({
        path: req.url ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.writeHead(200).end('ok');
      onPost?.();
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', () => resolve()));
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => slack.close(() => resolve()));
});

function fixture() {
  const audit = new MemoryAuditSink(systemClock);
  const queued: SlashFollowUpEvent[] = [];
  const started: string[] = [];
  let state: KillSwitchState | null = null;
  const deps: SlashCommandHandlerDeps = {
    users: { UOPS: ['viewer', 'operator'], UVIEW: ['viewer'] },
    readModel: {
      listCohorts: async () => ({ items: [], next: null }),
      listPromotions: async () => ({ items: [], next: null }),
      listApprovals: async () => ({ items: [], next: null }),
    },
    killSwitch: { read: async () => state },
    setKillSwitch: async (input) => {
      state = {
        engaged: input.engaged,
        reason: input.reason,
        changedBy: input.by,
        changedAtIso: new Date().toISOString(),
      };
      return {
        state,
        canceled: ['order-1'],
        ended: [],
        flattened: [],
        flattenErrors: [],
        cancelErrors: [],
        unchanged: false,
      };
    },
    extra: {
      cohortStart: (command, by) => ({
        run: async () => {
          started.push(`${by} ${command.symbols?.join(',') ?? 'default'}`);
          return { kind: 'text', title: 'Cohort start: running', lines: ['coh-20261204-x'] };
        },
      }),
    },
    audit,
    environment: 'local',
    clock: systemClock,
    secrets: new InMemorySecrets({ slackSigningSecret: SECRET }),
    responseUrlAllowed: (url) => url.startsWith(`${slackUrl}/`),
    ackBudgetMs: 2500,
    requestClock: systemClock,
    deferFollowUp: async (event) => {
      queued.push(JSON.parse(JSON.stringify(event)) as SlashFollowUpEvent);
    },
  };
  const handler = createHandler(() => deps);
  const invoke = (event: unknown) =>
    handler(event, localLambdaContext('slack-command', 25_000)) as Promise<{
      statusCode: number;
      body: string;
    }>;
  return { deps, audit, queued, started, invoke, state: () => state };
}

function slackPost(path: string, form: Record<string, string>, signed = true) {
  const body = new URLSearchParams(form).toString();
  return httpApiEvent({
    method: 'POST',
    url: new URL(`https://api.example.com${path}`),
    headers: signed
      ? signedSlackHeaders(SECRET, body, Date.now())
      : { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(body),
    routeKey: `POST ${path}`,
    pathParameters: {},
    approver: '',
  });
}

describe('a long command deployed with asynchronous follow-ups', () => {
  it('is acknowledged at once, and the follow-up posts the answer to response_url', async () => {
    const fx = fixture();
    const ack = await fx.invoke(
      slackPost('/slack/commands', {
        user_id: 'UOPS',
        text: 'cohort start 5000 10 SPY,IBM',
        response_url: `${slackUrl}/commands/T1/1/abc`,
      }),
    );
    // Prepare / Act: nothing ran before the acknowledgement; one follow-up is queued.
    expect(ack.statusCode).toBe(200);
    expect(ack.body).toContain('working');
    expect(fx.started).toEqual([]);
    expect(fx.queued).toHaveLength(1);
    const event = fx.queued[0] as SlashFollowUpEvent;
    expect(SlashFollowUpEventSchema.parse(event).job.by).toBe('slack:UOPS');
    expect(JSON.stringify(event)).not.toContain(SECRET);

    // Lambda delivers the queued event to the same function.
    const arrived = new Promise<void>((resolve) => {
      onPost = resolve;
    });
    const before = posted.length;
    const done = await fx.invoke(event);
    await arrived;
    onPost = null;

    // Assess: the work ran once, and Slack got the final answer at the response_url.
    expect(done.statusCode).toBe(200);
    expect(fx.started).toEqual(['slack:UOPS SPY,IBM']);
    const answer = posted.slice(before);
    expect(answer).toHaveLength(1);
    expect(answer[0]?.path).toBe('/commands/T1/1/abc');
    expect(JSON.stringify(answer[0]?.body)).toContain('coh-20261204-x');
  });

  it('a follow-up to a host that is not allowed posts nothing', async () => {
    const fx = fixture();
    const before = posted.length;
    const out = await fx.invoke({
      source: SLASH_FOLLOW_UP_SOURCE,
      job: {
        command: { kind: 'cohort_start', bankrollUsd: null, agents: null, symbols: null },
        by: 'slack:UOPS',
      },
      responseUrl: 'https://attacker.example.com/commands/x',
    });
    expect(out.statusCode).toBe(400);
    expect(fx.started).toEqual([]);
    expect(posted.length).toBe(before);
  });

  it('a follow-up shape sent over HTTP is an unsigned request (401, audited), never run', async () => {
    const fx = fixture();
    const out = await fx.invoke(
      slackPost(
        '/slack/commands',
        { source: SLASH_FOLLOW_UP_SOURCE, user_id: 'UOPS', text: 'cohort start' },
        false,
      ),
    );
    expect(out.statusCode).toBe(401);
    expect(fx.started).toEqual([]);
    expect(fx.queued).toEqual([]);
    expect(fx.audit.records().map((r) => r.kind)).toEqual(['input_rejected']);
  });
});

describe('kill-switch clicks on the function’s own interactivity route', () => {
  const click = (userId: string) =>
    slackPost('/slack/interactivity', {
      payload: JSON.stringify({
        type: 'block_actions',
        user: { id: userId },
        actions: [
          { action_id: SLACK_ACTION_IDS.killSwitchOn, type: 'button', value: 'broker outage' },
        ],
      }),
    });

  it('a viewer’s click is refused; an operator’s engages the switch', async () => {
    const fx = fixture();
    const refused = await fx.invoke(click('UVIEW'));
    expect(refused.body).toContain('operator');
    expect(fx.state()).toBeNull();
    const ok = await fx.invoke(click('UOPS'));
    expect(ok.statusCode).toBe(200);
    expect(fx.state()).toMatchObject({ engaged: true, changedBy: 'slack:UOPS' });
  });
});
