/**
 * The run report as PDF (`local/report-pdf.ts`, `stagegate report pdf`): the report of a REAL
 * run (one session, 10 agents) printed by headless Chromium is a PDF whose pages are wide
 * enough for the report's 1,400 px layout; a missing or non-HTML report is a usage error
 * (exit 2) naming the file.
 *
 * Needs the system Chromium (`apt-get install -y chromium`, done by `.ci/run`); without it the
 * test FAILS with a message saying so (it never skips).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRunReport } from '../../functions/core/report/render.js';
import { printReportPdf, REPORT_PDF_WIDTH_PX, ReportFileError } from '../../local/report-pdf.js';
import { runCli } from '../support/cli.js';
import { realRunInput } from './real-run.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagegate-pdf-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('run report as PDF', () => {
  it('prints the report of a real run on pages as wide as its layout', async () => {
    // Prepare
    const html = path.join(dir, 'run-20131007000000.html');
    await writeFile(html, renderRunReport(await realRunInput(['2013-10-07'], 10)), 'utf8');

    // Act
    const out = await printReportPdf(html);

    // Assess
    expect(out.pdfPath).toBe(path.join(dir, 'run-20131007000000.pdf'));
    const pdf = await readFile(out.pdfPath);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(out.bytes).toBe(pdf.byteLength);
    const text = pdf.toString('latin1');
    const pages = text.match(/\/Type\s*\/Page[^s]/g) ?? [];
    expect(pages.length).toBeGreaterThanOrEqual(2);
    // Page width in points (1 CSS px = 0.75 pt): the layout width plus the 2 × 24 px margins.
    const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(text);
    expect(Number(box?.[1])).toBeCloseTo((REPORT_PDF_WIDTH_PX + 48) * 0.75, 0);
  }, 240_000);

  it('refuses a missing or non-HTML report as a usage error naming the file', async () => {
    await expect(printReportPdf(path.join(dir, 'nope.html'))).rejects.toBeInstanceOf(
      ReportFileError,
    );
    await expect(printReportPdf(path.join(dir, 'report.txt'))).rejects.toThrow(/report\.txt/);
    const cli = await runCli(['report', 'pdf', 'nope.html'], {
      timeoutMs: 120_000,
      env: { INIT_CWD: dir },
    });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(path.join(dir, 'nope.html'));
  }, 120_000);
});
