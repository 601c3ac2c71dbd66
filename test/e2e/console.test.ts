/**
 * Browser test of the operator console: the real local stack (two real cohorts, a real
 * promotion, a pending Day-3 approval request) behind the local console server; headless
 * Chromium (Debian's, driven by playwright-core) signs in with the local passwords, sees the
 * cohort list, a cohort's leaderboard and its equity chart (with the value under the cursor),
 * the promotion's gate table, completes the two-person approval (operator, then risk officer),
 * and sees a tampered audit record reported as a broken hash chain.
 *
 * Needs the system Chromium (`apt-get install -y chromium`); without it every test FAILS with
 * a message saying so (never skips). `STAGEGATE_CHROMIUM` overrides the path.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../functions/composition/runtime.js';
import { LOCAL_BUCKETS } from '../../local/local-stack.js';
import { LOCAL_CREDENTIALS } from '../../local/servers.js';
import { type ConsoleFixture, startConsoleFixture } from '../integration/console/support.js';
import { launchChromium, requireChromium } from '../support/chromium.js';

let fx: ConsoleFixture | undefined;
let browser: Browser | undefined;
let setupError: unknown;

beforeAll(async () => {
  try {
    requireChromium();
    fx = await startConsoleFixture('e2e-console');
    browser = await launchChromium();
  } catch (err) {
    setupError = err;
  }
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await fx?.stop();
});

function ready(): { fx: ConsoleFixture; browser: Browser } {
  if (setupError !== undefined) throw setupError;
  return { fx: fx as ConsoleFixture, browser: browser as Browser };
}

/** A new page signed in as `user` through the login form. */
async function signIn(user: string): Promise<Page> {
  const { fx, browser } = ready();
  const page = await (
    await browser.newContext({ viewport: { width: 1400, height: 900 } })
  ).newPage();
  await page.goto(fx.server.url);
  await page.getByLabel('User').fill(user);
  const password = fx.users.file.users.find((u) => u.username === user)?.password ?? '';
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who').getByText(`local:${user}`).waitFor();
  return page;
}

describe('operator console in Chromium', () => {
  it('refuses a wrong password on the login form', async () => {
    const { fx, browser } = ready();
    const page = await (await browser.newContext()).newPage();
    await page.goto(fx.server.url);
    await page.getByLabel('User').fill('rick');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Unknown user or wrong password.').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('Unknown user or wrong password.');
    await page.context().close();
  });

  it('lists the cohorts, renders a leaderboard and an interactive equity chart', async () => {
    const { fx } = ready();
    const page = await signIn('vera');
    const list = page.locator('#cohort-list tbody tr');
    await list.first().waitFor();
    expect(await list.count()).toBe(2);
    // Each cohort names its market (its times are shown in that market's zone)
    expect(await list.first().textContent()).toContain('equity-usa');
    await list.filter({ hasText: fx.cohortIds[0] as string }).click();

    const rows = page.locator('#leaderboard tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(30);
    expect(await rows.first().locator('td').first().textContent()).toBe('1');

    const chart = page.locator('[data-chart="Parent equity (USD)"]');
    await chart.locator('canvas').waitFor();
    await page.locator('[data-chart="Parent equity (USD)"][data-rendered="true"]').waitFor();
    const over = chart.locator('.u-over');
    const box = await over.boundingBox();
    expect(box).not.toBeNull();
    // Hover the middle of the plot: the legend shows the time and the equity under the cursor.
    await page.mouse.move((box?.x ?? 0) + (box?.width ?? 0) / 2, (box?.y ?? 0) + 20);
    const legendValue = chart.locator('.u-legend .u-series').nth(1).locator('.u-value');
    await expect.poll(() => legendValue.textContent()).toMatch(/\$\d/);
    expect(await legendValue.textContent()).toMatch(/^\$[\d,]+\.\d\d$/);
    const time = await chart
      .locator('.u-legend .u-series')
      .first()
      .locator('.u-value')
      .textContent();
    expect(time).toMatch(/^2013-10-07 \d\d:\d\d$/);

    // Drill down to the best agent.
    await rows.first().click();
    await page.getByRole('heading', { name: /^Agent a\d+ · cohort/ }).waitFor();
    await page.locator('[data-chart="Equity (USD)"] canvas').waitFor();
    await page.context().close();
  });

  it('shows the promotion gate table, observed vs threshold', async () => {
    const { fx } = ready();
    const page = await signIn('vera');
    await page.goto(`${fx.server.url}#/promotions/${fx.promotionId}`);
    const gates = page.locator('#gates tbody tr');
    await gates.first().waitFor();
    // The 16 order-time gates and the daily promotion's baseline gate.
    expect(await gates.count()).toBe(17);
    expect(await page.locator('#gates tbody').textContent()).toContain('baseline');
    // The challenger never paper-traded: its baseline gate shows and counts as not judged
    const baseline = page.locator('#gates tbody tr', { hasText: 'baseline' });
    expect(await baseline.locator('.badge').textContent()).toBe('not judged');
    expect(await page.locator('.gate-counts').textContent()).toMatch(
      /^\d+ passed, \d+ failed, 1 not judged$/,
    );
    expect(await page.locator('#gates thead').textContent()).toContain('Observed');
    await page.context().close();
  });

  it('completes the two-person Day-3 approval: the operator signs with a note, then the risk officer', async () => {
    const { fx } = ready();
    const viewer = await signIn('vera');
    await viewer.goto(`${fx.server.url}#/approvals/${fx.approvalId}`);
    await viewer.getByRole('heading', { name: 'Evidence checklist' }).waitFor();
    expect(await viewer.locator('#approve').isDisabled()).toBe(true);
    await viewer.context().close();

    const operator = await signIn('olivia');
    await operator.goto(`${fx.server.url}#/approvals`);
    await operator.getByText('a0001 (momentum, SPY)').click();
    await operator.getByRole('heading', { name: 'Evidence checklist' }).waitFor();
    await operator.locator('#decision-note').fill('gate table and PSR checked');
    await operator.locator('#approve').click();
    await operator.getByText(/^Signed 1 of 2: waiting for the next signature/).waitFor();
    // The page reloads into the chain: olivia's signature and note, the token still held.
    const steps = operator.locator('#signature-steps tbody tr');
    await steps.nth(0).getByText('gate table and PSR checked').waitFor();
    expect(await steps.nth(0).textContent()).toContain('approved by local:olivia');
    expect(await steps.nth(1).textContent()).toContain('not yet');
    expect(await operator.locator('#task-token-state').textContent()).toBe('held');
    await operator.context().close();

    const risk = await signIn('rick');
    await risk.goto(`${fx.server.url}#/approvals/${fx.approvalId}`);
    await risk.getByRole('heading', { name: 'Evidence checklist' }).waitFor();
    await risk.locator('#approve').click();
    await risk.getByText(/^Recorded: approved \(execution resumed\)/).waitFor();
    await expect(fx.decision).resolves.toMatchObject({ decision: 'approved', by: 'local:rick' });
    // The page reloads into the approval chain: both signatures, the token released.
    await risk.locator('#task-token-state').getByText('released').waitFor();
    const signed = risk.locator('#signature-steps tbody tr');
    await signed
      .nth(1)
      .getByText(/approved by local:rick/)
      .waitFor();
    expect(await signed.nth(0).textContent()).toContain('local:olivia');
    expect(await signed.nth(1).textContent()).toContain('local:rick');
    expect(await risk.locator('#approval-chain').textContent()).not.toContain('console-test-');
    await risk.context().close();
  });

  it('shows the paper session: fills on the price chart, orders and paper vs simulator PnL', async () => {
    const { fx } = ready();
    const page = await signIn('vera');
    await page.goto(`${fx.server.url}#/paper`);
    const rows = page.locator('#paper-sessions tbody tr');
    await rows.first().waitFor();
    await rows.filter({ hasText: fx.promotionId }).click();
    await page.getByRole('heading', { name: `Paper session ${fx.promotionId}` }).waitFor();
    const chart = page.locator(
      '[data-chart$="with the session\'s fills (USD)"][data-rendered="true"]',
    );
    await chart.waitFor();
    // An equity session's close in its market's zone, labelled (16:00, 13:00 on an early close)
    await page.getByText(/close \d{4}-\d\d-\d\d 1[36]:00:00 New York/).waitFor();
    expect(await page.locator('#parity-difference').textContent()).toMatch(/\$/);
    const orders = page.locator('#paper-orders tbody tr');
    const count = await orders.count();
    if (count > 0) {
      expect(await orders.first().locator('td').first().textContent()).toMatch(/\S/);
    } else {
      await page.locator('#paper-orders').getByText('The session sent no order').waitFor();
    }
    // Hover the chart: the legend shows the close under the cursor.
    const box = await chart.locator('.u-over').boundingBox();
    await page.mouse.move((box?.x ?? 0) + (box?.width ?? 0) / 2, (box?.y ?? 0) + 20);
    const close = chart.locator('.u-legend .u-series').nth(1).locator('.u-value');
    await expect.poll(() => close.textContent()).toMatch(/^\$[\d,]+\.\d\d$/);
    await page.context().close();
  });

  it('shows the risk page with the micro-live section and the leverage policy', async () => {
    const page = await signIn('vera');
    await page.goto(`${ready().fx.server.url}#/risk`);
    await page
      .locator('#micro-live')
      .getByText(/Policy: start 2x/)
      .waitFor();
    await page.context().close();
  });

  it('shows a tampered audit record as a broken hash chain', async () => {
    const { fx } = ready();
    const page = await signIn('vera');
    await page.goto(`${fx.server.url}#/audit?kind=cohort_scored`);
    await page
      .locator('#chain-status')
      .getByText(/hash chain intact/)
      .waitFor();

    // Tamper: rewrite the bankroll inside one stored cohort_scored record.
    const s3 = makeS3Client(
      { S3_ENDPOINT: fx.stack.servers.s3Endpoint, AWS_REGION: 'us-east-1' },
      LOCAL_CREDENTIALS,
    );
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'audit/' }),
    );
    let tampered = false;
    for (const obj of listed.Contents ?? []) {
      const got = await s3.send(
        new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: obj.Key }),
      );
      const text = (await got.Body?.transformToString()) ?? '';
      if (!text.includes('"kind":"cohort_scored"')) continue;
      await s3.send(
        new PutObjectCommand({
          Bucket: LOCAL_BUCKETS.audit,
          Key: obj.Key,
          Body: text.replace('\\"bankroll\\":1000', '\\"bankroll\\":9000'),
        }),
      );
      tampered = true;
      break;
    }
    expect(tampered).toBe(true);
    await page.reload();
    await page
      .locator('#chain-status')
      .getByText(/hash chain BROKEN/)
      .waitFor();
    expect(await page.locator('#audit').getByText('broken').count()).toBeGreaterThanOrEqual(1);
    await page.context().close();
  });
});
