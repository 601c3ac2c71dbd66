/**
 * The Node version the stagegate CLI needs. `aws-local-stepfunctions` (the local ASL
 * interpreter) calls `Promise.withResolvers` (Node >= 22), so an older Node fails mid-run
 * (at LoadMarketData) instead of at the start. `npm start` and `npm run stagegate -- ...` run
 * the `node` devDependency's Node 22 from `node_modules/.bin`, whatever the system Node is.
 */
export const MIN_NODE_MAJOR = 22;

/**
 * Why `version` (`process.versions.node` form, e.g. "20.20.2") cannot run the CLI, or null
 * when it can. The message says what to run instead.
 */
export function nodeVersionProblem(version) {
  const major = Number.parseInt(String(version).split('.')[0] ?? '', 10);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return null;
  return (
    `stagegate needs Node >= ${MIN_NODE_MAJOR}; this is Node ${version}. ` +
    'Run it through npm (npm start, npm run stagegate -- <verb>), which uses the Node 22 ' +
    'installed by npm ci in node_modules/.bin.'
  );
}
