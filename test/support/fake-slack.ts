/**
 * A fake Slack Web API on loopback for tests of the official SDK (`@slack/web-api`
 * `WebClient` with `slackApiUrl` pointed here): records every call (method, bearer token,
 * arguments decoded from the form or JSON body as the SDK sends them) and answers each with
 * `answer(method, args)` (default `{ ok: true, channel, ts }`, as `chat.postMessage` does).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSlackCall {
  /** Web API method, e.g. `chat.postMessage`. */
  readonly method: string;
  /** The bearer token of the `Authorization` header (null without one). */
  readonly token: string | null;
  /** Arguments: form fields, with JSON-encoded values (blocks) parsed. */
  readonly args: Record<string, unknown>;
}

export interface FakeSlack {
  /** `http://127.0.0.1:<port>/api/` (the SDK's `slackApiUrl`). */
  readonly apiUrl: string;
  readonly calls: FakeSlackCall[];
  /** Replaces the answer of the next calls. */
  answer: (method: string, args: Record<string, unknown>) => Record<string, unknown>;
  close(): Promise<void>;
}

function decode(body: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    try {
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** Starts the fake on an ephemeral loopback port. */
export async function startFakeSlack(): Promise<FakeSlack> {
  let seq = 0;
  const fake: FakeSlack = {
    apiUrl: '',
    calls: [],
    answer: (_method, args) => ({
      ok: true,
      channel: args.channel,
      ts: `1700000000.${String(++seq).padStart(6, '0')}`,
    }),
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const auth = req.headers.authorization ?? '';
      const args = decode(
        Buffer.concat(chunks).toString('utf8'),
        req.headers['content-type'] ?? '',
      );
      fake.calls.push({ method, token: auth.startsWith('Bearer ') ? auth.slice(7) : null, args });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fake.answer(method, args)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
