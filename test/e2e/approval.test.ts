/**
 * Browser test of the Day-3 approval page: the real local stack runs three real cohorts and a
 * Day-3 execution in manual mode; headless Chromium (Debian's, driven by playwright-core) opens
 * the printed link from the local approval server. GET changes nothing; each failure case
 * (tampered signature, expired link, unknown approval, wrong approver, bad or missing CSRF
 * token) renders its error page, leaves the execution waiting and is audited; a click on
 * Approve resumes the execution into the micro-live promotion with the approver recorded; a
 * link reused after its decision is refused.
 *
 * Needs the system Chromium (`apt-get install -y chromium`); without it every test FAILS with
 * a message saying so (never skips). `STAGEGATE_CHROMIUM` overrides the path.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApprovalLink, newApprovalId } from '../../functions/core/approval/links.js';
import { type ApprovalServer, startApprovalServer } from '../../local/approval-server.js';
import {
  type Day3ApprovalRequest,
  type Day3RunOutcome,
  localApprover,
  runDay3,
} from '../../local/day3.js';
import { type LocalDay3Run, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { localTaskTokens } from '../../local/local-task-tokens.js';
import {
  auditRecords,
  runThreeCohorts,
  type StoredAudit,
  seedOutOfSampleWinner,
} from '../integration/day3/support.js';
import { launchChromium, requireChromium } from '../support/chromium.js';
import { DATA_ROOT } from '../support/paths.js';

const APPROVER = localApprover();
const MALLORY = 'local:mallory';

let stack: LocalStack;
/** The latest Day-3 run's composed dependencies and handlers (what its approval server serves). */
let lastRun: LocalDay3Run | undefined;
let cohortIds: string[];
let browser: Browser | undefined;
let setupError: unknown;
const aborts: AbortController[] = [];

/** A Day-3 execution waiting for a decision on the page. */
interface Waiting {
  readonly request: Day3ApprovalRequest;
  readonly outcome: Promise<Day3RunOutcome>;
}

function ready(): Browser {
  if (setupError !== undefined) throw setupError;
  return browser as Browser;
}

/** Starts a manual Day-3 run and resolves once its approval link is printed. */
async function startManualRun(monitor: boolean): Promise<Waiting> {
  const abort = new AbortController();
  aborts.push(abort);
  let announced: (r: Day3ApprovalRequest) => void = () => undefined;
  const requested = new Promise<Day3ApprovalRequest>((resolve) => {
    announced = resolve;
  });
  const outcome = runDay3(stack, {
    cohortIds,
    approval: 'manual',
    timeoutSeconds: 900,
    approver: APPROVER,
    monitor,
    monitorEveryMinutes: 120,
    signal: abort.signal,
    write: () => undefined,
    onApprovalRequested: (request, run) => {
      lastRun = run;
      announced(request);
    },
  });
  const request = await Promise.race([
    requested,
    outcome.then((o) => {
      throw new Error(
        `the Day-3 run ended before asking: ${o.decision} ${o.error ?? ''} ${o.cause ?? ''}`,
      );
    }),
  ]);
  return { request, outcome };
}

function httpOfLastRun(): LocalDay3Run['http'] {
  if (!lastRun) throw new Error('no Day-3 run yet');
  return lastRun.http;
}

const isWaiting = (w: Waiting) => localTaskTokens.waitingTasks(w.request.executionArn).length === 1;

async function statusOf(approvalId: string): Promise<string> {
  if (!lastRun) throw new Error('no Day-3 run yet');
  return (await lastRun.approval.approvals.getForDisplay(approvalId)).status;
}

/** Decision attempts (recorded or refused) on one approval, from the audit trail. */
async function attempts(approvalId: string): Promise<StoredAudit[]> {
  return (await auditRecords(stack)).filter(
    (r) =>
      r.payload.approval_id === approvalId &&
      (r.kind === 'approval_decided' || r.kind === 'input_rejected'),
  );
}

async function openPage(url: string): Promise<{ page: Page; status: number }> {
  const page = await ready().newPage();
  const res = await page.goto(url, { waitUntil: 'load' });
  return { page, status: res?.status() ?? 0 };
}

async function heading(page: Page): Promise<string> {
  return (await page.locator('h1').first().textContent()) ?? '';
}

beforeAll(async () => {
  try {
    requireChromium();
    stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
    cohortIds = await runThreeCohorts(stack, 'e2e-day3');
    // A candidate that beats the baselines out of sample (the shared week's all lost, which
    // is never overridable): its evidence is short only on PSR / DSR (the demo override).
    await seedOutOfSampleWinner(stack, cohortIds);
    browser = await launchChromium();
  } catch (err) {
    setupError = err;
  }
});

afterAll(async () => {
  for (const a of aborts) a.abort();
  await browser?.close();
  await stack?.stop();
});

describe('approval page in headless Chromium (local approval server, real Day-3 execution)', () => {
  let w: Waiting;
  let mallory: ApprovalServer | undefined;

  afterAll(async () => {
    await mallory?.close();
  });

  it('GET shows the confirmation page (metrics, gates, equity chart) and changes nothing', async () => {
    // Prepare
    ready();
    w = await startManualRun(true);

    // Act: open it twice, as Slack's unfurler and the approver would
    const first = await openPage(w.request.approvalUrl);
    const second = await openPage(w.request.approvalUrl);

    // Assess
    expect(first.status).toBe(200);
    expect(await heading(second.page)).toMatch(/^Approve micro-live for /);
    expect(await second.page.locator('svg').count()).toBeGreaterThan(0);
    expect(await second.page.locator('table').count()).toBeGreaterThanOrEqual(2);
    expect(await second.page.getByRole('button', { name: 'Approve' }).isVisible()).toBe(true);
    expect(isWaiting(w)).toBe(true);
    expect(await statusOf(w.request.approvalId)).toBe('pending');
    expect(await attempts(w.request.approvalId)).toEqual([]);
  });

  it.each<[string, (url: URL) => Promise<string>, number, string, string]>([
    [
      'a tampered signature',
      async (url) => {
        const sig = url.searchParams.get('sig') ?? '';
        url.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
        return url.href;
      },
      403,
      'Invalid approval link',
      'tampered',
    ],
    [
      'an expired link (validly signed, past its expiry)',
      async (url) => {
        const { key } = await stack.approvalDeps();
        const id = decodeURIComponent(url.pathname.split('/').pop() ?? '');
        // Expiry is judged on the stack's clock (time is a port), not the wall clock.
        const exp = Math.floor(stack.clock.now() / 1000) - 60;
        return buildApprovalLink({ baseUrl: url.origin, approvalId: id, exp }, key).url;
      },
      410,
      'Approval request expired',
      'expired',
    ],
    [
      'a wrong approver (the server of another user)',
      async (url) => {
        mallory ??= await startApprovalServer({ approver: MALLORY, handlers: httpOfLastRun() });
        return `${mallory.url}${url.pathname}${url.search}`;
      },
      403,
      'Not an approver',
      'forbidden',
    ],
  ])(
    '%s renders its error page, leaves the execution waiting and is audited',
    async (_n, make, status, title, reason) => {
      // Prepare
      const url = await make(new URL(w.request.approvalUrl));

      // Act
      const { page, status: got } = await openPage(url);

      // Assess
      expect(got).toBe(status);
      expect(await heading(page)).toBe(title);
      expect(isWaiting(w)).toBe(true);
      expect(await statusOf(w.request.approvalId)).toBe('pending');
      expect((await attempts(w.request.approvalId)).map((r) => r.payload.reason)).toContain(reason);
    },
  );

  it('an unknown approval id (no request, no task token) renders "not found" and is audited', async () => {
    // Prepare
    const { key } = await stack.approvalDeps();
    const ghost = newApprovalId();
    const real = new URL(w.request.approvalUrl);
    const url = buildApprovalLink(
      { baseUrl: real.origin, approvalId: ghost, exp: Number(real.searchParams.get('exp')) },
      key,
    ).url;

    // Act
    const { page, status } = await openPage(url);

    // Assess
    expect(status).toBe(404);
    expect(await heading(page)).toBe('Approval request not found');
    expect(isWaiting(w)).toBe(true);
    expect((await attempts(ghost)).map((r) => [r.kind, r.payload.reason])).toEqual([
      ['input_rejected', 'missing'],
    ]);
  });

  it.each<[string, (page: Page) => Promise<void>]>([
    [
      'a bad CSRF token',
      (page) =>
        page.locator('input[name="csrf"]').evaluate((el) => {
          (el as unknown as { value: string }).value = 'A'.repeat(43);
        }),
    ],
    [
      'a missing CSRF token',
      (page) =>
        page
          .locator('input[name="csrf"]')
          .evaluate((el) => (el as unknown as { remove(): void }).remove()),
    ],
  ])(
    'clicking Approve with %s renders "Form check failed", leaves the execution waiting, is audited',
    async (_n, tamper) => {
      // Prepare
      const { page } = await openPage(w.request.approvalUrl);
      await tamper(page);
      const before = (await attempts(w.request.approvalId)).filter(
        (r) => r.payload.reason === 'csrf',
      ).length;

      // Act
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Approve' }).click(),
      ]);
      await page.waitForLoadState('load');

      // Assess
      expect(response.status()).toBe(403);
      expect(await heading(page)).toBe('Form check failed');
      expect(isWaiting(w)).toBe(true);
      expect(await statusOf(w.request.approvalId)).toBe('pending');
      const after = (await attempts(w.request.approvalId)).filter(
        (r) => r.payload.reason === 'csrf',
      ).length;
      expect(after).toBe(before + 1);
    },
  );

  it('a valid form posted by a wrong approver is refused and audited with that identity', async () => {
    // Prepare: the form of the real page, posted to the other user's server
    const { page } = await openPage(w.request.approvalUrl);
    const fields = Object.fromEntries(
      await Promise.all(
        ['csrf', 'exp', 'sig'].map(async (n) => [
          n,
          (await page.locator(`input[name="${n}"]`).getAttribute('value')) ?? '',
        ]),
      ),
    ) as Record<string, string>;
    mallory ??= await startApprovalServer({ approver: MALLORY, handlers: httpOfLastRun() });

    // Act
    const res = await page.request.post(`${mallory.url}/approvals/${w.request.approvalId}`, {
      form: { ...fields, decision: 'approve' },
    });

    // Assess
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('Not an approver');
    expect(isWaiting(w)).toBe(true);
    const refused = (await attempts(w.request.approvalId)).filter((r) => r.actor === MALLORY);
    expect(refused.map((r) => r.payload.reason)).toEqual(['forbidden', 'forbidden']);
  });

  it('clicking Approve resumes the execution into the micro-live promotion, with the approver recorded', async () => {
    // Prepare
    const { page } = await openPage(w.request.approvalUrl);

    // Act
    await Promise.all([
      page.waitForURL(/approvals/),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    await page.waitForLoadState('load');
    const out = await w.outcome;

    // Assess: the page, the execution, the slice
    expect(await heading(page)).toBe('Approved');
    expect(await page.locator('main').textContent()).toContain(APPROVER);
    expect(out.decision).toBe('approved');
    expect(out.approver).toBe(APPROVER);
    expect(out.path).toEqual(
      expect.arrayContaining(['StartMicroLive', 'RunMicroLive', 'ConcludeMicroLive']),
    );
    expect(out.promotion?.outcome).toBe('promoted');
    expect(out.conclusion?.outcome).toBe('micro_live_started');
    expect(out.slice?.approvedBy).toBe(APPROVER);
    // Assess: the approver's identity is in the audit trail
    const decided = (await attempts(w.request.approvalId)).filter(
      (r) => r.kind === 'approval_decided',
    );
    expect(decided).toEqual([
      expect.objectContaining({
        actor: APPROVER,
        payload: expect.objectContaining({ decision: 'approved', channel: 'web' }),
      }),
    ]);
  });
});

describe('a reused link (fresh execution)', () => {
  it('after a decision, the link and its form are refused as "Already decided", audited', async () => {
    // Prepare: decide (reject) through the page, keeping the form's fields
    ready();
    const w = await startManualRun(false);
    const { page } = await openPage(w.request.approvalUrl);
    const fields = Object.fromEntries(
      await Promise.all(
        ['csrf', 'exp', 'sig'].map(async (n) => [
          n,
          (await page.locator(`input[name="${n}"]`).getAttribute('value')) ?? '',
        ]),
      ),
    ) as Record<string, string>;
    await Promise.all([
      page.waitForURL(/approvals/),
      page.getByRole('button', { name: 'Reject' }).click(),
    ]);
    await page.waitForLoadState('load');
    const out = await w.outcome;

    // Act: open the link again, and post the same form again (the run's server is gone with
    // the run; the page is served again for the same approver, as the HTTP API always is)
    const server = await startApprovalServer({ approver: APPROVER, handlers: httpOfLastRun() });
    const link = new URL(w.request.approvalUrl);
    const reopened = await openPage(`${server.url}${link.pathname}${link.search}`);
    const reposted = await reopened.page.request.post(`${server.url}${link.pathname}`, {
      form: { ...fields, decision: 'approve' },
    });
    await server.close();

    // Assess
    expect(out.decision).toBe('rejected');
    expect(out.approver).toBe(APPROVER);
    expect(reopened.status).toBe(409);
    expect(await heading(reopened.page)).toBe('Already decided');
    expect(reposted.status()).toBe(409);
    expect(await reposted.text()).toContain('Already decided');
    expect(await statusOf(w.request.approvalId)).toBe('rejected');
    expect(
      (await attempts(w.request.approvalId)).map((r) => [
        r.kind,
        r.payload.reason ?? r.payload.decision,
      ]),
    ).toEqual([
      ['approval_decided', 'rejected'],
      ['input_rejected', 'reused'],
      ['input_rejected', 'reused'],
    ]);
  });
});
