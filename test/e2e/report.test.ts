/**
 * Browser test of the run report: renders the report of a REAL run (30 agents over the shared
 * LEAN bars of 2013-10-07 and 2013-10-08), opens the file in headless Chromium through
 * playwright-core and checks what a reader sees: every chart drawn with real extent, 30
 * leaderboard rows per day, no request other than the file itself, no console error.
 *
 * Needs the system Chromium (`apt-get install -y chromium`, done by `.ci/run`); without it the
 * test FAILS with a message saying so (it never skips). `STAGEGATE_CHROMIUM` overrides the path.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRunReport } from '../../functions/core/report/render.js';
import { launchChromium, requireChromium } from '../support/chromium.js';
import { realRunInput } from './real-run.js';

const DATES = ['2013-10-07', '2013-10-08'];
const AGENTS = 30;

/** What the page reports about one `svg[data-chart]`. */
interface ChartProbe {
  readonly hook: string;
  readonly width: number;
  readonly height: number;
  readonly titled: boolean;
  /** Point count of each series (polyline points, or bars of a bar group). */
  readonly seriesPoints: number[];
  /** Width of the widest series' bounding box, px. */
  readonly seriesWidth: number;
}

/** The parts of the DOM's SVG element types the probe uses (the project compiles without `lib: dom`). */
interface GraphicsLike {
  getBBox(): { width: number };
}
interface PolylineLike extends GraphicsLike {
  readonly points: { readonly numberOfItems: number };
}

describe('run report in headless Chromium (real run, 2 sessions × 30 agents)', () => {
  let dir: string;
  let file: string;
  let browser: Browser | undefined;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  let setupError: unknown;

  /** Rethrows a setup failure in each test, so a missing Chromium fails every test (never skips). */
  function ready(): Page {
    if (setupError !== undefined) throw setupError;
    return page;
  }

  beforeAll(async () => {
    try {
      await setUp();
    } catch (err) {
      setupError = err;
    }
  });

  async function setUp(): Promise<void> {
    requireChromium();
    const input = await realRunInput(DATES, AGENTS);
    dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-report-'));
    file = path.join(dir, 'report.html');
    await writeFile(file, renderRunReport(input), 'utf8');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  }

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws every chart with at least one series of >= 2 points and a real extent', async () => {
    // Act
    const charts: ChartProbe[] = await ready().$$eval('svg[data-chart]', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        const lines = [...svg.querySelectorAll('polyline[data-series]')] as PolylineLike[];
        const groups = [...svg.querySelectorAll('g[data-series]')];
        const seriesPoints = [
          ...lines.map((l) => l.points.numberOfItems),
          ...groups.map((g) => g.querySelectorAll('rect').length),
        ];
        const widths = [...lines, ...(groups as unknown as GraphicsLike[])].map(
          (el) => el.getBBox().width,
        );
        return {
          hook: svg.getAttribute('data-chart') ?? '',
          width: box.width,
          height: box.height,
          titled: (svg.querySelector(':scope > title')?.textContent ?? '').length > 0,
          seriesPoints,
          seriesWidth: Math.max(0, ...widths),
        };
      }),
    );

    // Assess
    const expected = [
      'learning',
      // The trading record across sessions.
      'cumulative-equity',
      'underwater',
      ...DATES.flatMap((d) => [`equity-${d}`, `utilization-${d}`, `hourly-roi-${d}`]),
    ];
    expect(charts.map((c) => c.hook).sort()).toEqual(expected.sort());
    for (const c of charts) {
      expect(c.width, c.hook).toBeGreaterThan(0);
      expect(c.height, c.hook).toBeGreaterThan(0);
      expect(c.titled, c.hook).toBe(true);
      expect(Math.max(...c.seriesPoints), c.hook).toBeGreaterThanOrEqual(2);
      expect(c.seriesWidth, c.hook).toBeGreaterThan(0);
    }
    for (const d of DATES) {
      const equity = charts.find((c) => c.hook === `equity-${d}`);
      expect(equity?.seriesPoints).toHaveLength(AGENTS + 1);
      expect(Math.min(...(equity?.seriesPoints ?? [0]))).toBeGreaterThanOrEqual(2);
    }
  });

  it('lists all 30 agents in each day leaderboard, ranked 1..30', async () => {
    for (const d of DATES) {
      // Act
      const ranks = await ready().$$eval(`table[data-table="leaderboard-${d}"] tbody tr`, (rows) =>
        rows.map((r) => Number(r.querySelector('td')?.textContent)),
      );

      // Assess
      expect(ranks).toEqual(Array.from({ length: AGENTS }, (_, i) => i + 1));
    }
  });

  it('shows the gate outcomes and paper orders of the promoted candidate', async () => {
    // Act
    const gateRows = await ready().$$eval(
      'table[data-table="gates-2013-10-08"] tbody tr',
      (r) => r.length,
    );
    const orderRows = await page.$$eval(
      'table[data-table="orders-2013-10-08"] tbody tr',
      (r) => r.length,
    );
    const candidate = await page.$$eval('tr.candidate', (r) => r.length);

    // Assess
    expect(gateRows).toBe(16);
    expect(orderRows).toBe(2);
    expect(candidate).toBe(1);
  });

  it('makes no request other than the file itself and logs no error', async () => {
    // Prepare
    ready();

    // Assess
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(consoleErrors).toEqual([]);
  });

  it('renders to a non-empty full-page screenshot', async () => {
    // Prepare
    const shot = path.join(dir, 'report.png');

    // Act
    await ready().screenshot({ path: shot, fullPage: true });

    // Assess
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect((await stat(shot)).size).toBeGreaterThan(50_000);
  });
});
