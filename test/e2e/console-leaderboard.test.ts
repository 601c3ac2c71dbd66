/**
 * Browser test of the cohort leaderboard's paging, search and sort: a real 120-agent cohort
 * on the local stack behind the local console server; headless Chromium (Debian's, driven
 * by playwright-core). Only one page of rows (50 by default) is in the DOM; every agent is
 * still reachable through the pages, the page size, the search (agent or genome id) and the
 * column sort, and the browser's Back from an agent returns to the same page and search.
 *
 * Needs the system Chromium (`apt-get install -y chromium`); without it every test FAILS with
 * a message saying so (never skips). `STAGEGATE_CHROMIUM` overrides the path.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleServer } from '../../local/console-server.js';
import type { ConsoleUsers } from '../../local/console-users.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { launchChromium, requireChromium } from '../support/chromium.js';
import { runTestCohort } from '../support/cohort.js';
import { startMemoryConsole } from '../support/console-server.js';
import { DATA_ROOT } from '../support/paths.js';

const AGENTS = 120;

interface Row {
  readonly rank: number;
  readonly agentId: string;
  readonly genomeId: string;
  readonly family: string;
  readonly symbol: string;
  readonly totalPnlUsd: number;
}

/** The rows the search keeps: agent id, genome id, family or symbol contains `text` (any case). */
function matching(text: string): Row[] {
  const needle = text.toLowerCase();
  return rows.filter((r) =>
    [r.agentId, r.genomeId, r.family, r.symbol].some((s) => s.toLowerCase().includes(needle)),
  );
}

let stack: LocalStack | undefined;
let server: ConsoleServer | undefined;
let users: ConsoleUsers | undefined;
let browser: Browser | undefined;
let cohortId = '';
/** The leaderboard as the API returns it (rank order). */
let rows: Row[] = [];
let setupError: unknown;

beforeAll(async () => {
  try {
    requireChromium();
    stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
    cohortId = await runTestCohort(stack, {
      sessionDate: '2013-10-08',
      executionName: 'e2e-leaderboard',
      bankrollUsd: 10_000,
      agentCount: AGENTS,
      seed: 7,
    });
    ({ server, users } = await startMemoryConsole(stack));
    const res = await fetch(new URL(`/api/cohorts/${cohortId}`, server.url), {
      headers: { authorization: `Bearer ${users.tokenFor('vera')}` },
    });
    rows = ((await res.json()) as { leaderboard: Row[] }).leaderboard;
    browser = await launchChromium();
  } catch (err) {
    setupError = err;
  }
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.stop();
});

/** A page signed in as vera (viewer) through the login form, on the cohort's page. */
async function cohortPage(): Promise<Page> {
  if (setupError !== undefined) throw setupError;
  const b = browser as Browser;
  const s = server as ConsoleServer;
  const page = await (await b.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await page.goto(s.url);
  await page.getByLabel('User').fill('vera');
  const password = users?.file.users.find((u) => u.username === 'vera')?.password ?? '';
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who').getByText('local:vera').waitFor();
  await page.goto(`${s.url}#/cohorts/${encodeURIComponent(cohortId)}`);
  await page.locator('#leaderboard tbody tr').first().waitFor();
  return page;
}

/** The text of column `col` (0-based) of every row in the DOM. */
async function column(page: Page, col: number): Promise<string[]> {
  return page
    .locator('#leaderboard tbody tr')
    .evaluateAll((trs, c) => trs.map((tr) => tr.querySelectorAll('td')[c]?.textContent ?? ''), col);
}

const range = (page: Page) => page.locator('#leaderboard-range').textContent();

describe('cohort leaderboard: pages, search and sort', () => {
  it('shows one page of 50 agents and reaches every agent through the pages', async () => {
    const page = await cohortPage();
    expect(rows).toHaveLength(AGENTS);
    expect(await column(page, 0)).toEqual(rows.slice(0, 50).map((r) => String(r.rank)));
    expect(await range(page)).toBe(`Agents 1–50 of ${AGENTS} · page 1 of 3`);
    expect(await page.locator('#leaderboard-prev').isDisabled()).toBe(true);

    await page.locator('#leaderboard-next').click();
    expect(await range(page)).toBe(`Agents 51–100 of ${AGENTS} · page 2 of 3`);
    expect(await column(page, 1)).toEqual(rows.slice(50, 100).map((r) => r.agentId));

    await page.locator('#leaderboard-last').click();
    expect(await range(page)).toBe(`Agents 101–120 of ${AGENTS} · page 3 of 3`);
    expect(await column(page, 1)).toEqual(rows.slice(100).map((r) => r.agentId));
    expect(await page.locator('#leaderboard-next').isDisabled()).toBe(true);

    // A bigger page: back to the first page, 100 rows.
    await page.locator('#leaderboard-size').selectOption('100');
    expect(await range(page)).toBe(`Agents 1–100 of ${AGENTS} · page 1 of 2`);
    expect(await page.locator('#leaderboard tbody tr').count()).toBe(100);
    await page.context().close();
  });

  it('finds an agent by genome id, drills down, and Back returns to the search', async () => {
    const page = await cohortPage();
    const target = rows[76] as Row;
    const sameGenome = matching(target.genomeId);
    await page.getByLabel('Search agents').fill(target.genomeId);
    await expect.poll(() => column(page, 1)).toEqual(sameGenome.map((r) => r.agentId));
    expect(new Set(await column(page, 2))).toEqual(new Set(sameGenome.map((r) => r.genomeId)));
    expect(await range(page)).toContain(`matching “${target.genomeId}”`);

    await page
      .locator('#leaderboard tbody tr')
      .filter({ has: page.locator('td', { hasText: new RegExp(`^${target.agentId}$`) }) })
      .click();
    await page
      .getByRole('heading', { name: new RegExp(`^Agent ${target.agentId} · cohort`) })
      .waitFor();
    await page.goBack();
    await page.locator('#leaderboard tbody tr').first().waitFor();
    expect(await page.getByLabel('Search agents').inputValue()).toBe(target.genomeId);
    expect(await column(page, 1)).toEqual(sameGenome.map((r) => r.agentId));

    // The agent id works too; a text no agent has shows a designed empty state.
    await page.getByLabel('Search agents').fill(target.agentId.toUpperCase());
    await expect
      .poll(() => column(page, 1))
      .toEqual(matching(target.agentId).map((r) => r.agentId));
    await page.getByLabel('Search agents').fill('no-such-agent');
    await page.getByText('No agent of this cohort matches “no-such-agent”.').waitFor();
    expect(await page.locator('#leaderboard tbody tr').count()).toBe(0);
    await page.context().close();
  });

  it('sorts by a column across all agents, not only the page shown', async () => {
    const page = await cohortPage();
    const byPnl = [...rows].sort((a, b) => a.totalPnlUsd - b.totalPnlUsd || a.rank - b.rank);
    await page.getByRole('button', { name: 'PnL', exact: true }).click();
    await expect.poll(() => column(page, 1)).toEqual(byPnl.slice(0, 50).map((r) => r.agentId));
    expect(await page.locator('#leaderboard th[aria-sort="ascending"]').textContent()).toContain(
      'PnL',
    );

    await page.getByRole('button', { name: /^PnL/ }).click();
    const desc = [...rows].sort((a, b) => b.totalPnlUsd - a.totalPnlUsd || a.rank - b.rank);
    await expect.poll(() => column(page, 1)).toEqual(desc.slice(0, 50).map((r) => r.agentId));
    await page.context().close();
  });
});
