import { describe, expect, it } from 'vitest';
import type { StrategyFamily } from '../../../functions/core/cohort/genome.js';
import type { AgentResult } from '../../../functions/core/cohort/simulate.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { type RunReportInput, renderRunReport } from '../../../functions/core/report/render.js';
import {
  chart,
  count,
  GATES,
  openMs,
  polylines,
  syntheticDay,
  table,
  threeDayInput,
} from './fixtures.js';

const DATES = ['2013-10-07', '2013-10-08', '2013-10-09'];

describe('renderRunReport structure', () => {
  it('renders the summary, the learning section and, per day, 3 charts and the leaderboard', () => {
    // Prepare
    const input = threeDayInput(5);

    // Act
    const html = renderRunReport(input);

    // Assess
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<section id="summary">');
    expect(count(table(html, 'summary') ?? '', '<tr>')).toBe(1 + 3);
    expect(html).toContain('<section id="learning">');
    expect(chart(html, 'learning')).toBeDefined();
    expect(count(html, '<section class="day"')).toBe(3);
    for (const date of DATES) {
      for (const kind of ['equity', 'utilization', 'hourly-roi']) {
        const svg = chart(html, `${kind}-${date}`);
        expect(svg, `${kind}-${date}`).toBeDefined();
        expect(svg).toMatch(/<title id="[^"]+">[^<]+<\/title>/);
        expect(svg).toMatch(/<desc id="[^"]+">[^<]+<\/desc>/);
      }
      expect(count(table(html, `leaderboard-${date}`) ?? '', '<tr')).toBe(1 + 5);
    }
  });

  it('draws one series per agent plus the parent in each equity chart, parent last and bold', () => {
    // Prepare
    const input = threeDayInput(7);

    // Act
    const html = renderRunReport(input);

    // Assess
    for (const date of DATES) {
      const svg = chart(html, `equity-${date}`) as string;
      const lines = polylines(svg);
      expect(count(svg, '<polyline') + count(svg, '<path')).toBe(7 + 1);
      expect(lines.map((l) => l.series)).toEqual([
        'a0001',
        'a0002',
        'a0003',
        'a0004',
        'a0005',
        'a0006',
        'a0007',
        'parent',
      ]);
      expect(svg).toMatch(/data-series="parent"[^>]*stroke-width="2.5"/);
      for (const l of lines) expect(l.points).toHaveLength(391);
    }
  });

  it('moves the parent to a right axis, zeros aligned, when its swing dwarfs the agents', () => {
    // Prepare
    const big = syntheticDay('2013-10-07', { agents: 5, inPhase: true });
    const small = syntheticDay('2013-10-08', { agents: 2, inPhase: true });

    // Act
    const html = renderRunReport({ ...threeDayInput(1), days: [big, small], learning: [] });

    // Assess
    const bigSvg = chart(html, 'equity-2013-10-07') as string;
    expect(bigSvg).toContain('class="axis y right"');
    expect(bigSvg).toContain('parent PnL since open (USD)');
    const lines = polylines(bigSvg);
    expect(lines.at(-1)?.points.at(-1)?.[0]).toBe(1200 - 84);
    const startYs = new Set(lines.map((l) => l.points[0]?.[1]));
    expect(startYs.size).toBe(1);
    const agentLow = Math.max(...(lines[0]?.points.map((p) => p[1]) ?? []));
    const parentLow = Math.max(...(lines.at(-1)?.points.map((p) => p[1]) ?? []));
    expect(parentLow).toBeCloseTo(agentLow, 0);
    expect(html).toContain('parent wallet (right axis)');
    const smallSvg = chart(html, 'equity-2013-10-08') as string;
    expect(smallSvg).not.toContain('class="axis y right"');
    expect(polylines(smallSvg).at(-1)?.points.at(-1)?.[0]).toBe(1200 - 18);
  });

  it('labels the x axis in New York time and the hourly ROI bars by hour start', () => {
    // Act
    const html = renderRunReport(threeDayInput(3));

    // Assess
    const equity = chart(html, 'equity-2013-10-07') as string;
    expect(equity).toContain('>09:30</text>');
    expect(equity).toContain('>12:00</text>');
    expect(equity).toContain('>16:00</text>');
    const hourly = chart(html, 'hourly-roi-2013-10-07') as string;
    expect(count(hourly, '<rect data-value=')).toBe(7);
    expect(hourly).toContain('>15:30</text>');
    const util = chart(html, 'utilization-2013-10-07') as string;
    expect(polylines(util).map((l) => l.series)).toEqual(['parent']);
    expect(util).toContain('aggregate ceiling 100%');
  });

  it('shows gate outcomes and orders only for the day that has them', () => {
    // Act
    const html = renderRunReport(threeDayInput(4));

    // Assess
    expect(table(html, 'gates-2013-10-07')).toBeUndefined();
    expect(table(html, 'orders-2013-10-08')).toBeUndefined();
    const gates = table(html, 'gates-2013-10-09') as string;
    expect(count(gates, '<tr>')).toBe(1 + GATES.length);
    expect(gates).toContain('drawdown_parent');
    expect(gates).toContain('>0.123457<');
    expect(gates).toContain('>n/a<');
    expect(gates).toContain('flatten');
    expect(gates).toContain('parent drawdown 0.12 above max 0.1');
    const orders = table(html, 'orders-2013-10-09') as string;
    expect(orders).toContain('sg-coh-2013-10-09-a0001-1');
    expect(orders).toContain('$1,234.50');
    expect(html).toContain('data-reconciliation="clean"');
    expect(html).toContain('<tr class="candidate">');
  });

  it('shows a gate not judged yet as "not judged", counted apart from passes and failures', () => {
    // Prepare: the daily baseline gate of a challenger without paper sessions
    const input = threeDayInput(4);
    const notJudged = {
      gate: 'baseline' as const,
      verdict: 'not_judged' as const,
      observed: '0 session(s)',
      threshold: '1 to judge',
      unit: 'out-of-sample sessions',
      reason: 'not judged yet',
      breakerAction: 'none' as const,
    };
    const days = input.days.map((d) => (d.gates ? { ...d, gates: [...d.gates, notJudged] } : d));
    // Act
    const html = renderRunReport({ ...input, days });
    // Assess: the day's table and its heading, and the summary's badge
    const gates = table(html, 'gates-2013-10-09') as string;
    expect(gates).toContain('<span class="badge not-judged">not judged</span>');
    expect(html).toContain('1 passed, 2 failed, 1 not judged');
    expect(html).toContain('1/4 pass, 1 not judged');
  });

  it('charts and tabulates the learning delta, skipping a generation without results', () => {
    // Prepare
    const input: RunReportInput = {
      ...threeDayInput(2),
      learning: [
        { generation: 0, bestFitness: 0.5, meanFitness: 0.1 },
        { generation: 1, bestFitness: 0.75, meanFitness: 0.2 },
        { generation: 2, bestFitness: 0.7, meanFitness: 0.3 },
        { generation: 3, bestFitness: null, meanFitness: null },
      ],
    };

    // Act
    const html = renderRunReport(input);

    // Assess
    const lines = polylines(chart(html, 'learning') as string);
    expect(lines.map((l) => [l.series, l.points.length])).toEqual([
      ['mean', 3],
      ['best', 3],
    ]);
    const learning = table(html, 'learning') as string;
    expect(count(learning, '<tr>')).toBe(1 + 4);
    expect(learning).toContain('>+0.2500<');
    expect(learning).toContain('>-0.0500<');
    expect(learning).toContain('>n/a<');
  });

  it('omits the learning section when there is no learning history', () => {
    // Prepare
    const input: RunReportInput = { ...threeDayInput(2), learning: [] };

    // Act
    const html = renderRunReport(input);

    // Assess
    expect(chart(html, 'learning')).toBeUndefined();
    expect(html).not.toContain('id="learning"');
  });

  it('renders a run with no sessions', () => {
    // Act
    const html = renderRunReport({
      title: 't',
      generatedAtIso: '2013-10-09T21:00:00.000Z',
      environment: 'dev',
      days: [],
    });

    // Assess
    expect(html).toContain('No sessions in this run.');
    expect(html).not.toContain('<svg');
  });

  it('loads nothing: no script, no external URL, a default-src none CSP', () => {
    // Act
    const html = renderRunReport(threeDayInput(3));

    // Assess
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(?!#)/);
    expect(html).toContain("default-src 'none'");
    const urls = html.match(/https?:\/\/[^"\s<]+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });
});

describe('renderRunReport escaping', () => {
  it('escapes hostile agent ids, symbols, reasons, order ids, title and environment', () => {
    // Prepare
    const hostileId = '<script>alert("id")</script>';
    const hostileSymbol = '"><img src=x onerror=alert(1)>';
    const day = syntheticDay('2013-10-07', {
      agents: 2,
      agentIds: [hostileId],
      symbol: hostileSymbol,
    });
    const input: RunReportInput = {
      title: '</title><script>alert("title")</script>',
      generatedAtIso: '2013-10-07T21:00:00Z" onload="x',
      environment: "dev' onmouseover='alert(1)",
      days: [
        {
          ...day,
          gates: [
            { ...(GATES[0] as (typeof GATES)[number]), reason: '<b onclick=x>&</b>', unit: '<i>' },
          ],
          promotion: {
            candidateAgentId: hostileId,
            orders: [
              {
                clientOrderId: '<svg onload=alert(1)>',
                symbol: hostileSymbol,
                side: '<u>',
                qty: 1,
                status: '"filled"',
                filledQty: 1,
                filledAvgPriceUsd: 1,
              },
            ],
            reconciliation: '<marquee>1 break</marquee>',
          },
        },
      ],
    };

    // Act
    const html = renderRunReport(input);

    // Assess
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b onclick');
    expect(html).not.toContain('<marquee');
    expect(html).not.toContain('<svg onload');
    const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
    const unquoted = tags.map((t) => t.replace(/"[^"]*"/g, '""'));
    expect(unquoted.filter((t) => /\son[a-z]+\s*=/i.test(t))).toEqual([]);
    expect(html).toContain('&lt;script&gt;alert(&quot;id&quot;)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;b onclick=x&gt;&amp;&lt;/b&gt;');
    expect(html).toContain('&lt;marquee&gt;1 break&lt;/marquee&gt;');
    expect(html).toContain('data-reconciliation="breaks"');
    expect(html).toContain(`data-series="${'&lt;script&gt;alert(&quot;id&quot;)&lt;/script&gt;'}"`);
    expect(html).toContain(
      '<title>&lt;/title&gt;&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;</title>',
    );
    expect(html).toContain('datetime="2013-10-07T21:00:00Z&quot; onload=&quot;x"');
  });
});

describe('renderRunReport colours', () => {
  it('colours agents by strategy family and an unknown family grey, prototype keys included', () => {
    // Prepare
    const day = syntheticDay('2013-10-07', { agents: 2 });
    const [first, second] = day.simulation.agents as [AgentResult, AgentResult];
    const odd = {
      ...second,
      genome: { ...second.genome, family: 'constructor' as StrategyFamily },
    };
    const simulation = { ...day.simulation, agents: [first, odd] };

    // Act
    const html = renderRunReport({
      ...threeDayInput(1),
      days: [{ ...day, simulation }],
      learning: [],
    });

    // Assess
    const svg = chart(html, 'equity-2013-10-07') as string;
    expect(svg).toMatch(/data-series="a0001" points="[^"]*" stroke="#0969da"/);
    expect(svg).toMatch(/data-series="a0002" points="[^"]*" stroke="#8c959f"/);
    expect(html).not.toContain('native code');
  });
});

describe("renderRunReport: the cohort's buys under the USD 1 fractional minimum", () => {
  it("shows on the day's Trades tile how many fractional buys the sizing did not send (none: no line)", () => {
    // Prepare: two agents whose sizing kept 2 and 1 buys under USD 1
    const day = syntheticDay('2013-10-07', { agents: 2 });
    const [first, second] = day.simulation.agents as [AgentResult, AgentResult];
    const agents = [
      { ...first, belowMinimumBuys: 2 },
      { ...second, belowMinimumBuys: 1 },
    ];
    const render = (a: AgentResult[]) =>
      renderRunReport({
        ...threeDayInput(1),
        days: [{ ...day, simulation: { ...day.simulation, agents: a } }],
        learning: [],
      });

    // Act
    const counted = render(agents);
    const none = render([first, second]);

    // Assess
    expect(counted).toContain('3 fractional buys under the USD 1 minimum not sent');
    expect(none).not.toContain('under the USD 1 minimum');
  });
});

describe('renderRunReport downsampling and size', () => {
  it('draws at most 400 points per series for a 1,440-minute session, keeping the ends', () => {
    // Prepare
    const day = syntheticDay('2013-10-07', { agents: 3, bars: 1_440 });

    // Act
    const html = renderRunReport({ ...threeDayInput(1), days: [day], learning: [] });

    // Assess
    for (const [hook, right] of [
      ['equity-2013-10-07', 1200 - 18],
      ['utilization-2013-10-07', 600 - 18],
    ] as const) {
      for (const l of polylines(chart(html, hook) as string)) {
        expect(l.points.length).toBeLessThanOrEqual(400);
        expect(l.points.length).toBeGreaterThan(150);
        expect(l.points[0]?.[0]).toBe(84);
        expect(l.points.at(-1)?.[0]).toBe(right);
      }
    }
  });

  it('keeps 30 agents × 3 days under 1.5 MB', () => {
    // Act
    const html = renderRunReport(threeDayInput(30));

    // Assess
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThan(1.5 * 1024 * 1024);
    for (const date of DATES)
      expect(count(table(html, `leaderboard-${date}`) ?? '', '<tr')).toBe(31);
  });
});

describe('renderRunReport at scale', () => {
  it('draws the 30 best and 30 worst of 1,000 agents, shows the top 25 rows and puts every agent behind a drill-down, under 3 MB for 3 days', () => {
    // Prepare
    const input = threeDayInput(1000);

    // Act
    const html = renderRunReport(input);

    // Assess
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThan(3 * 1024 * 1024);
    for (const [i, date] of DATES.entries()) {
      const board = input.days[i]?.score.leaderboard ?? [];
      const drawn = polylines(chart(html, `equity-${date}`) as string).map((l) => l.series);
      const expected = [...board.slice(0, 30), ...board.slice(-30)].map((r) => r.agentId);
      expect(drawn.filter((id) => id !== 'parent').sort()).toEqual(expected.sort());
      expect(drawn.at(-1)).toBe('parent');
      expect(count(table(html, `leaderboard-${date}`) ?? '', '<tr')).toBe(1 + 25);
      const all = table(html, `leaderboard-all-${date}`) ?? '';
      expect(count(all, '<tr')).toBe(1 + 1000);
      const last = board.at(-1);
      expect(all).toContain(`<td>${last?.rank}</td><td>${last?.agentId}</td>`);
    }
    expect(count(html, '<details class="all-agents">')).toBe(3);
  });

  it('keeps a cohort of at most 60 agents fully inline (no drill-down)', () => {
    // Act
    const html = renderRunReport(threeDayInput(60));

    // Assess
    expect(html).not.toContain('<details');
    expect(count(table(html, 'leaderboard-2013-10-07') ?? '', '<tr')).toBe(61);
    expect(polylines(chart(html, 'equity-2013-10-07') as string)).toHaveLength(61);
  });
});

describe('renderRunReport figures', () => {
  it('formats USD with 2 decimals and ratios as percentages in the tables', () => {
    // Prepare
    const input = threeDayInput(4);
    const first = input.days[0];
    const best = first?.score.leaderboard[0];

    // Act
    const html = renderRunReport(input);

    // Assess
    const board = table(html, 'leaderboard-2013-10-07') as string;
    expect(board).toContain('>$250.00<');
    expect(best).toBeDefined();
    const row = board.slice(board.indexOf(`<td>${best?.agentId}</td>`));
    expect(row).toMatch(
      /^<td>a\d{4}<\/td><td>[a-z_]+<\/td><td>[A-Z]+<\/td><td class="n">\$250\.00<\/td><td class="n (pos|neg)?">-?\$\d+\.\d{2}<\/td>/,
    );
    expect(board).toMatch(/<td class="n[^"]*">-?\d+\.\d{2}%<\/td>/);
    const summary = table(html, 'summary') as string;
    expect(summary).toContain('>$1,000.00<');
    expect(summary).toMatch(/-?\d+\.\d{3}%/);
  });

  it('shows per-session figures with their units and no minute Sharpe', () => {
    // Act
    const html = renderRunReport(threeDayInput(1));

    // Assess
    const summary = table(html, 'summary') as string;
    expect(summary).toContain('vol/sess');
    expect(summary).toContain('n = 1 session');
    expect(summary).not.toContain('Sharpe</th>');
    expect(html).not.toContain('annualized, 1-min returns');
    expect(html).not.toContain('252 × 390');
  });

  it('rejects a day whose score belongs to another cohort or session', () => {
    // Prepare
    const a = syntheticDay('2013-10-07');
    const b = syntheticDay('2013-10-08');

    // Act / Assess
    expect(() =>
      renderRunReport({ ...threeDayInput(1), days: [{ ...a, score: b.score }] }),
    ).toThrow(ValidationError);
    expect(() =>
      renderRunReport({ ...threeDayInput(1), days: [{ ...a, cohortId: 'other' }] }),
    ).toThrow(/days\[0\]\.cohortId/);
    expect(() =>
      renderRunReport({
        ...threeDayInput(1),
        days: [
          {
            ...a,
            sessionDate: '2013-10-08',
            simulation: { ...a.simulation, cohortId: a.cohortId },
          },
        ],
      }),
    ).toThrow(/days\[0\]\.sessionDate/);
    expect(openMs('2013-10-07')).toBe(a.simulation.sessionOpenMs);
  });
});
