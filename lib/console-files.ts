/**
 * The operator console's static files: URL path -> repository file and content type. The local
 * console server serves exactly these (`local/console-server.ts`) and `stagegate
 * publish-console` puts the same files in the console pages bucket in AWS
 * (`lib/console-publish.ts`), under the URL path without its leading `/`.
 */
export interface ConsoleFile {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly type: string;
}

/** The pages (`/` is `index.html`). Nothing else of the disk is reachable. */
export const CONSOLE_FILES: Readonly<Record<string, ConsoleFile>> = {
  '/index.html': { file: 'console/index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'console/app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'console/app.css', type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': {
    file: 'node_modules/uplot/dist/uPlot.iife.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  '/vendor/uPlot.min.css': {
    file: 'node_modules/uplot/dist/uPlot.min.css',
    type: 'text/css; charset=utf-8',
  },
};

/** URL path of the sign-in settings the console reads in AWS (absent locally). */
export const CONSOLE_CONFIG_PATH = '/console-config.json';

/** Logical ids of the console outputs (read from `cdk deploy --outputs-file`). */
export const CONSOLE_OUTPUTS = {
  url: 'ConsoleUrl',
  bucket: 'ConsolePagesBucket',
  signInUrl: 'ConsoleSignInUrl',
  clientId: 'ConsoleClientId',
  userPoolId: 'ConsoleUserPoolId',
} as const;
