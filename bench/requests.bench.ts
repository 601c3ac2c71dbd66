/**
 * The emulator requests of `npm start`'s replay (3 sessions, 4 symbols, 30 agents, USD 1,000,
 * `--approval auto`), counted in-process with the composition root's request counters
 * (`awsRequestCountsByItem`, every client the roots build): which operation on which items,
 * and what each schedule firing costs in requests and CPU (DynamoDB Local's JVM and s3rver from
 * /proc, this Node process from `process.cpuUsage`). Then, on the same warm emulators, the CPU
 * one request of each kind costs (JVM and Node, sequential requests), to tell the count of
 * requests from their weight; and the firings of a second replay on the same, now warm,
 * emulators (the state goes on, so it tells another story over the same request paths): JVM
 * CPU per request there against the first replay's is what the JVM spent compiling its paths.
 *
 * Issue 18: about half of `npm start`'s CPU is the emulators serving its requests; this bench
 * says where they come from. It measures and never fails on a figure (CPU-s under load are
 * inflated: read them with the recorded load average).
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  awsRequestCountsByItem,
  makeDocumentClient,
  resetAwsRequestCounts,
} from '../functions/composition/runtime.js';
import { ManualClock } from '../functions/ports/clock.js';
import { type LocalStack, startLocalStack } from '../local/local-stack.js';
import { replay } from '../local/replay.js';
import { DATA_ROOT, REPO_ROOT } from '../test/support/paths.js';
import type { BenchReport } from './run.js';

const CLK_TCK = 100;
/** Requests of each kind in the per-request cost measurement. */
const COST_REQUESTS = Number(process.env.STAGEGATE_BENCH_REQUEST_COST_N ?? 300);

type Row = Record<string, string | number | boolean>;

/** DynamoDB Local's JVM and s3rver under this process, by pid (Linux /proc; empty elsewhere). */
async function emulatorPids(): Promise<{ jvm: number[]; s3rver: number[] }> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (stat) parents.set(Number(entry), ppid);
  }
  const under = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  const out = { jvm: [] as number[], s3rver: [] as number[] };
  for (const pid of parents.keys()) {
    if (!under(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (/DynamoDBLocal[^/]*\.jar/.test(cmd)) out.jvm.push(pid);
    else if (cmd.includes('s3rver-child')) out.s3rver.push(pid);
  }
  return out;
}

/** User + system CPU-s of `pids` so far (0 for a process that is gone). */
async function cpuOf(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (stat) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

interface Snapshot {
  readonly jvm: number;
  readonly s3rver: number;
  readonly node: number;
  readonly wall: number;
  readonly dynamodb: number;
  readonly s3: number;
}

async function snapshot(pids: { jvm: number[]; s3rver: number[] }): Promise<Snapshot> {
  let dynamodb = 0;
  let s3 = 0;
  for (const [key, n] of awsRequestCountsByItem()) {
    if (key.startsWith('s3:')) s3 += n;
    else dynamodb += n;
  }
  const cpu = process.cpuUsage();
  return {
    jvm: await cpuOf(pids.jvm),
    s3rver: await cpuOf(pids.s3rver),
    node: (cpu.user + cpu.system) / 1e6,
    wall: performance.now() / 1000,
    dynamodb,
    s3,
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Per schedule firing (summed over the run): requests and CPU-s between firings. */
class Phases {
  private readonly sums = new Map<string, Snapshot>();
  private current = '';
  private last: Snapshot | null = null;

  constructor(
    private readonly pids: { jvm: number[]; s3rver: number[] },
    /** Which replay: the first (the JVM compiles as it goes) or a second on the warm JVM. */
    private readonly replayName: string,
  ) {}

  /** Closes the running phase and starts `name` (a firing's state machine or name). */
  async enter(name: string): Promise<void> {
    const now = await snapshot(this.pids);
    if (this.last) {
      const s = this.sums.get(this.current);
      const d = (k: keyof Snapshot) => (s?.[k] ?? 0) + now[k] - (this.last as Snapshot)[k];
      this.sums.set(this.current, {
        jvm: d('jvm'),
        s3rver: d('s3rver'),
        node: d('node'),
        wall: d('wall'),
        dynamodb: d('dynamodb'),
        s3: d('s3'),
      });
    }
    this.current = name;
    this.last = now;
  }

  rows(): Row[] {
    return [...this.sums].map(([phase, s]) => ({
      section: `by firing, ${this.replayName}`,
      phase,
      dynamodbRequests: s.dynamodb,
      s3Requests: s.s3,
      jvmCpuS: r2(s.jvm),
      jvmMsPerDynamodbRequest: s.dynamodb > 0 ? r2((s.jvm * 1000) / s.dynamodb) : 0,
      s3rverCpuS: r2(s.s3rver),
      nodeCpuS: r2(s.node),
      wallS: r2(s.wall),
    }));
  }
}

/** `npm start`'s replay on `stack`, its requests attributed to the firing that made them. */
async function replayCounted(stack: LocalStack, phases: Phases): Promise<void> {
  // onEvent is synchronous: each firing's boundary is taken when the next event arrives.
  let pending = Promise.resolve();
  await replay(stack, {
    sessions: ['2013-10-07', '2013-10-08', '2013-10-09'],
    symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
    bankrollUsd: 1000,
    agentCount: 30,
    allocation: 'equal',
    seed: 1,
    approval: 'auto',
    reportDir: path.join(REPO_ROOT, '.local', 'bench-reports'),
    out: () => undefined,
    onEvent: (e) => {
      if (e.type === 'FiringStarted') pending = pending.then(() => phases.enter(e.machine));
    },
  });
  await pending;
  await phases.enter('after the replay');
}

/** One request of each kind the run sends, on synthetic items of a `BENCH#` partition. */
function requestKinds(stack: LocalStack): Record<string, () => Promise<unknown>> {
  const doc = makeDocumentClient(stack.runtime.env, stack.runtime.credentials);
  const TableName = stack.runtime.env.TABLE_NAME;
  const kb = (n: number) => 'x'.repeat(n * 1024);
  const missing = { pk: 'BENCH#CONFIG', sk: 'KILL_SWITCH' };
  let seq = 0;
  return {
    'GetItem, no item (the kill switch when off)': () =>
      doc.send(new GetCommand({ TableName, Key: missing, ConsistentRead: true })),
    'GetItem, 1 KB item': () =>
      doc.send(
        new GetCommand({ TableName, Key: { pk: 'BENCH#A', sk: '1' }, ConsistentRead: true }),
      ),
    'GetItem, 20 KB item': () =>
      doc.send(
        new GetCommand({ TableName, Key: { pk: 'BENCH#A', sk: '20' }, ConsistentRead: true }),
      ),
    'BatchGetItem, 2 items': () =>
      doc.send(
        new BatchGetCommand({
          RequestItems: {
            [TableName]: { Keys: [missing, { pk: 'BENCH#A', sk: '1' }], ConsistentRead: true },
          },
        }),
      ),
    'Query, 20 items of 1 KB': () =>
      doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': 'BENCH#Q' },
          ConsistentRead: true,
        }),
      ),
    'PutItem, 1 KB': () =>
      doc.send(new PutCommand({ TableName, Item: { pk: 'BENCH#P', sk: '1', v: kb(1) } })),
    'TransactWriteItems, 2 conditional puts of 2 KB (an audit append)': () => {
      seq++;
      return doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { pk: 'BENCH#T', sk: 'HEAD', seq, v: kb(2) } } },
            {
              Put: {
                TableName,
                Item: { pk: 'BENCH#T', sk: `K#${seq}`, v: kb(2) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    },
  };
}

/** JVM and Node CPU of one request of each kind, ms (sequential, after one warm-up round). */
async function requestCosts(stack: LocalStack, jvm: readonly number[]): Promise<Row[]> {
  const doc = makeDocumentClient(stack.runtime.env, stack.runtime.credentials);
  const TableName = stack.runtime.env.TABLE_NAME;
  await doc.send(
    new PutCommand({ TableName, Item: { pk: 'BENCH#A', sk: '1', v: 'x'.repeat(1024) } }),
  );
  await doc.send(
    new PutCommand({ TableName, Item: { pk: 'BENCH#A', sk: '20', v: 'x'.repeat(20480) } }),
  );
  for (let i = 0; i < 20; i++) {
    await doc.send(
      new PutCommand({ TableName, Item: { pk: 'BENCH#Q', sk: `${i}`, v: 'y'.repeat(1024) } }),
    );
  }
  const rows: Row[] = [];
  for (const [kind, send] of Object.entries(requestKinds(stack))) {
    for (let i = 0; i < COST_REQUESTS; i++) await send(); // warm-up: the JIT has compiled it
    const jvm0 = await cpuOf(jvm);
    const node0 = process.cpuUsage();
    for (let i = 0; i < COST_REQUESTS; i++) await send();
    const node = process.cpuUsage(node0);
    rows.push({
      section: 'CPU per request (warm)',
      kind,
      jvmMs: r2(((await cpuOf(jvm)) - jvm0) * (1000 / COST_REQUESTS)),
      nodeMs: r2((node.user + node.system) / 1000 / COST_REQUESTS),
      n: COST_REQUESTS,
    });
  }
  return rows;
}

/** The run's requests by operation and item kind, most first. */
function operationRows(): Row[] {
  return [...awsRequestCountsByItem()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, count]) => {
      const [service = '', command = '', ...item] = key.split(':');
      return {
        section: 'by operation',
        operation: `${service}:${command.replace(/Command$/, '')}`,
        items: item.join(':'),
        count,
      };
    });
}

export default async function (): Promise<BenchReport> {
  const load = [os.loadavg()[0] ?? 0];
  const stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(0),
    brokerAccount: 'bench-requests',
  });
  const rows: Row[] = [];
  try {
    const pids = await emulatorPids();
    const first = new Phases(pids, 'first replay');
    resetAwsRequestCounts();
    await first.enter('before the first firing');
    await replayCounted(stack, first);
    const ops = operationRows();
    const total = ops.reduce((s, r) => s + (r.count as number), 0);
    rows.push({ section: 'total', requests: total }, ...ops, ...first.rows());
    // The same replay again on the warm emulators (the state goes on: another story, the same
    // request paths): what the first replay's JVM spent compiling them.
    const warm = new Phases(pids, 'second replay (warm JVM)');
    await warm.enter('before the first firing');
    await replayCounted(stack, warm);
    rows.push(...warm.rows());
    rows.push(...(await requestCosts(stack, pids.jvm)));
  } finally {
    await stack.stop();
  }
  load.push(os.loadavg()[0] ?? 0);
  rows.push({
    section: 'machine load (1-min load average, start / end)',
    start: Math.round((load[0] ?? 0) * 10) / 10,
    end: Math.round((load[1] ?? 0) * 10) / 10,
    cpus: os.cpus().length,
  });
  return {
    name: 'requests',
    description:
      "npm start's replay in-process: emulator requests by operation and item kind, requests and CPU-s (JVM, s3rver, Node) by schedule firing, and the warm CPU of one request of each kind",
    rows,
  };
}
