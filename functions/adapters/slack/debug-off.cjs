// Stand-in for the `debug` package inside the deployed bundles (an esbuild alias in
// lib/constructs/bundling.ts). In the Slack functions `debug` is reached only through the
// Slack SDK's HTTP stack (axios -> follow-redirects, https-proxy-agent, agent-base), which
// logs through it when the DEBUG environment variable names them; no function sets DEBUG, so
// every logger here is off and does nothing. Saves ~10 KB (debug, ms, supports-color,
// has-flag) per Slack function. Tests and the local mode run unbundled with the real package.
'use strict';

function createDebug(namespace) {
  const log = () => {};
  log.enabled = false;
  log.namespace = String(namespace);
  log.extend = (suffix) => createDebug(`${namespace}:${suffix}`);
  return log;
}
createDebug.enabled = () => false;
createDebug.enable = () => {};
createDebug.disable = () => '';
createDebug.default = createDebug;

module.exports = createDebug;
