/**
 * `stagegate slack "<command text>"`: posts a slash command to the local endpoint exactly as
 * Slack would (urlencoded form, v0 signature over the raw body, the current timestamp) and
 * returns the Block Kit answers: the immediate response, a follow-up posted to its
 * `response_url` (a loopback listener of this process), and, for a kill switch confirmation,
 * the signed `block_actions` click on the confirmation button when `confirm` says so.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlashResponse } from '../functions/adapters/slack/command-messages.js';
import {
  isKillSwitchConfirmBlock,
  type SlackButton,
} from '../functions/adapters/slack/messages.js';
import { readBody } from './approval-server.js';
import { signedSlackHeaders } from './slack-local.js';

/** One exchange of the conversation. */
export interface SlackExchange {
  readonly via: 'response' | 'response_url' | 'interactivity';
  readonly status: number;
  readonly body: SlashResponse | Record<string, unknown>;
}

/** Options of {@link sendSlashCommand}. */
export interface SlashCommandPost {
  /** Base URL of the local server, ending in `/`. */
  readonly baseUrl: string;
  readonly signingSecret: string;
  readonly userId: string;
  readonly text: string;
  /** Asked when the answer carries a kill switch confirmation button; true clicks it. */
  readonly confirm: (button: SlackButton) => Promise<boolean>;
  /** Longest wait for a follow-up through response_url, ms. @default 600_000 */
  readonly followUpTimeoutMs?: number;
  /** @default Date.now (Slack signs with the real time) */
  readonly nowMs?: () => number;
  /** Overrides of the signature headers (tests: a bad signature, a replay). */
  readonly headers?: Record<string, string>;
  /**
   * The invocation's `trigger_id` (tests: a redelivery sends the same one); default a new,
   * unique one per call, as Slack's (the server records a command once per trigger_id).
   */
  readonly triggerId?: string;
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

/** The confirmation's button, with its block's id (what Slack sends back with a click). */
function confirmationButton(
  body: Record<string, unknown>,
): (SlackButton & { readonly blockId: string }) | null {
  const blocks = Array.isArray(body.blocks) ? (body.blocks as Record<string, unknown>[]) : [];
  for (const b of blocks) {
    if (b.type !== 'actions' || !isKillSwitchConfirmBlock(b.block_id)) continue;
    const el = (b.elements as SlackButton[] | undefined)?.[0];
    if (el) return { ...el, blockId: String(b.block_id) };
  }
  return null;
}

const isWorking = (body: Record<string, unknown>) =>
  Array.isArray(body.blocks) &&
  (body.blocks as Record<string, unknown>[]).some((b) => b.block_id === 'working');

/** Posts the command (and a confirmation click or a follow-up wait) and returns every answer. */
export async function sendSlashCommand(o: SlashCommandPost): Promise<SlackExchange[]> {
  const now = o.nowMs ?? Date.now;
  const followUps: Record<string, unknown>[] = [];
  let arrived: (() => void) | null = null;
  const listener = createServer((req, res) => {
    void readBody(req).then((b) => {
      try {
        followUps.push(
          JSON.parse((b ?? Buffer.alloc(0)).toString('utf8')) as Record<string, unknown>,
        );
      } catch {
        followUps.push({ text: 'unreadable follow-up' });
      }
      res.writeHead(200).end('ok');
      arrived?.();
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const responseUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/response`;
  try {
    const form = new URLSearchParams({
      command: '/stagegate',
      text: o.text,
      user_id: o.userId,
      user_name: o.userId.toLowerCase(),
      team_id: 'TLOCAL',
      channel_id: 'CLOCAL',
      response_url: responseUrl,
      trigger_id: o.triggerId ?? `local.${now()}.${randomBytes(8).toString('hex')}`,
    }).toString();
    const first = await post(`${o.baseUrl}slack/commands`, form, {
      ...signedSlackHeaders(o.signingSecret, form, now()),
      ...o.headers,
    });
    const out: SlackExchange[] = [{ via: 'response', status: first.status, body: first.json }];
    if (first.status === 200 && isWorking(first.json)) {
      if (!followUps.length) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, o.followUpTimeoutMs ?? 600_000);
          arrived = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      for (const f of followUps) out.push({ via: 'response_url', status: 200, body: f });
    }
    const button = first.status === 200 ? confirmationButton(first.json) : null;
    if (button && (await o.confirm(button))) {
      const payload = JSON.stringify({
        type: 'block_actions',
        user: { id: o.userId, team_id: 'TLOCAL' },
        team: { id: 'TLOCAL' },
        channel: { id: 'CLOCAL' },
        actions: [
          {
            action_id: button.action_id,
            type: 'button',
            value: button.value,
            // Slack sends the clicked button's block_id (a release's switch as it was shown).
            block_id: button.blockId,
          },
        ],
      });
      const body = new URLSearchParams({ payload }).toString();
      const click = await post(
        `${o.baseUrl}slack/interactivity`,
        body,
        signedSlackHeaders(o.signingSecret, body, now()),
      );
      out.push({ via: 'interactivity', status: click.status, body: click.json });
    }
    return out;
  } finally {
    listener.closeAllConnections();
    await new Promise<void>((r) => listener.close(() => r()));
  }
}

/** Block Kit as plain text for a terminal (headers, sections, fields, context, buttons). */
export function blocksAsText(body: Record<string, unknown>): string {
  const blocks = Array.isArray(body.blocks) ? (body.blocks as Record<string, unknown>[]) : [];
  if (!blocks.length) return `${String(body.text ?? JSON.stringify(body))}\n`;
  const lines: string[] = [];
  const txt = (t: unknown) => String((t as { text?: unknown } | undefined)?.text ?? '');
  for (const b of blocks) {
    if (b.type === 'header') lines.push(`== ${txt(b.text)} ==`);
    else if (b.type === 'section') {
      if (b.text) lines.push(txt(b.text));
      for (const f of (b.fields as unknown[] | undefined) ?? []) lines.push(`  ${txt(f)}`);
    } else if (b.type === 'context')
      lines.push(...((b.elements as unknown[] | undefined) ?? []).map((e) => `  (${txt(e)})`));
    else if (b.type === 'actions')
      for (const e of (b.elements as SlackButton[] | undefined) ?? [])
        lines.push(`  [${e.text.text}]${e.confirm ? ` (asks: ${e.confirm.text.text})` : ''}`);
    else if (b.type === 'divider') lines.push('---');
  }
  return `${lines.join('\n')}\n`;
}
