/**
 * The run report as PDF: headless Chromium (`local/chromium.ts`, playwright-core with Debian's
 * chromium) loads the report's HTML, which is self-contained (inline CSS and SVG charts, no
 * network), and prints it. The page is 1,400 px wide (the width the report is laid out for,
 * so nothing is cut off) by 1,980 px (the A-series ratio), with backgrounds, 24 px margins.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, requireChromium } from './chromium.js';

/** Width of the printed page, CSS px: the report's layout width. */
export const REPORT_PDF_WIDTH_PX = 1400;

/** A report file that cannot be printed: names the file (a usage error: exit 2). */
export class ReportFileError extends Error {
  override readonly name = 'ReportFileError';
}

/**
 * The newest run report (`run-*.html`, by name: they are stamped UTC `YYYYMMDDhhmmss`) in
 * `reportDir`.
 * @throws ReportFileError when the folder holds none.
 */
export async function newestReport(reportDir: string): Promise<string> {
  let names: string[] = [];
  try {
    names = await readdir(reportDir);
  } catch {
    // no folder: no report
  }
  const newest = names
    .filter((n) => /^run-\d+\.html$/.test(n))
    .sort()
    .at(-1);
  if (!newest) {
    throw new ReportFileError(
      `no run report in ${reportDir}: run \`npm start\` first, or name an HTML report`,
    );
  }
  return path.join(reportDir, newest);
}

/**
 * Prints the HTML report at `htmlPath` to `pdfPath` (default: the same name with `.pdf`).
 * @returns the PDF's path and size in bytes.
 * @throws ReportFileError when `htmlPath` is not a readable `.html` file.
 * @throws Error when Chromium is not installed (the message says how to install it).
 */
export async function printReportPdf(
  htmlPath: string,
  pdfPath = htmlPath.replace(/\.html?$/i, '.pdf'),
): Promise<{ pdfPath: string; bytes: number }> {
  if (!/\.html?$/i.test(htmlPath)) {
    throw new ReportFileError(`${htmlPath}: not an HTML report (.html)`);
  }
  let html: string;
  try {
    html = await readFile(htmlPath, 'utf8');
  } catch (err) {
    throw new ReportFileError(`${htmlPath}: cannot be read (${(err as Error).message})`);
  }
  requireChromium();
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({
      viewport: { width: REPORT_PDF_WIDTH_PX, height: 1980 },
      offline: true,
    });
    const page = await context.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    await page.emulateMedia({ media: 'screen' });
    await page.pdf({
      path: pdfPath,
      width: `${REPORT_PDF_WIDTH_PX + 48}px`,
      height: '1980px',
      printBackground: true,
      margin: { top: '24px', bottom: '24px', left: '24px', right: '24px' },
    });
    await context.close();
  } finally {
    await browser.close();
  }
  return { pdfPath, bytes: (await stat(pdfPath)).size };
}
