/**
 * Headless Chromium for the run report's PDF (`stagegate report pdf`) and the browser tests:
 * Debian's `/usr/bin/chromium` (`apt-get install -y chromium`; `.ci/run` installs it;
 * playwright-core never downloads a browser), or the binary named by `STAGEGATE_CHROMIUM`.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

const CHROMIUM = process.env.STAGEGATE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Chromium 156 loads its omnibox popup (a WebUI page of ~200 modules, ~2 CPU-s) in every new
  // window, headless too, where nothing can open it: on 2 cores that competed with the page.
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,PreloadTopChromeWebUI',
];

/**
 * Throws (so a test FAILS, never skips, and the CLI exits with the reason) when no Chromium
 * binary is at the configured path.
 * @throws Error naming the path and how to install one.
 */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` ` +
        '(.ci/run does) or point STAGEGATE_CHROMIUM at a Chromium binary',
    );
  }
}

/**
 * Launches headless Chromium (no sandbox, no network side traffic). playwright-core is loaded
 * here, on first use, not when the CLI starts (~0.3 CPU-s of module load every command would
 * pay for the one that prints a PDF).
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
