/** Headless Chromium for the browser tests: the local mode's launcher (`local/chromium.ts`). */
export { launchChromium, requireChromium } from '../../local/chromium.js';
