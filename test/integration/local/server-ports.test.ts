import net from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ephemeralPortStart,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  listenablePort,
  startLocalServers,
} from '../../../local/servers.js';

/** A listener on all interfaces that drops every connection: the port is simply taken. */
function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((socket) => socket.destroy());
    srv.once('error', reject);
    srv.listen(port, '0.0.0.0', () => resolve(srv));
  });
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('listenablePort', () => {
  it('picks below the ephemeral range and skips a port that is taken', async () => {
    const first = await listenablePort(() => 0.5);
    const taken = await occupy(first);
    cleanups.push(() => new Promise((r) => taken.close(r)));
    const draws = [0.5, 0.25];
    const second = await listenablePort(() => draws.shift() ?? 0.75);
    expect(second).not.toBe(first);
    expect(draws).toHaveLength(0);
    expect(second).toBeGreaterThanOrEqual(10_000);
    expect(second).toBeLessThan(await ephemeralPortStart());
  });
});

describe('DynamoDB Local start', () => {
  it('starts on a new port when its first port is taken before the JVM binds it', async () => {
    const takenPort = await listenablePort();
    const taken = await occupy(takenPort);
    cleanups.push(() => new Promise((r) => taken.close(r)));
    const picked: number[] = [];
    const servers: LocalServers = await startLocalServers({
      buckets: [],
      dynamoPort: async () => {
        const port = picked.length === 0 ? takenPort : await listenablePort();
        picked.push(port);
        return port;
      },
    });
    cleanups.push(() => servers.stop());
    expect(picked[0]).toBe(takenPort);
    expect(picked.length).toBeGreaterThanOrEqual(2);
    expect(servers.dynamoEndpoint).toBe(`http://127.0.0.1:${picked.at(-1)}`);
    const client = new DynamoDBClient({
      endpoint: servers.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    cleanups.push(async () => client.destroy());
    await expect(client.send(new ListTablesCommand({}))).resolves.toMatchObject({
      TableNames: [],
    });
  });
});
