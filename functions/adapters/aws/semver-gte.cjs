// Stand-in for the `semver` package inside the deployed bundles (an esbuild alias in
// lib/constructs/bundling.ts). Only the X-Ray SDK's dependencies reach `semver`, and both ask
// one question of plain `major.minor.patch` versions: cls-hooked (Node >= 8.0.0, which context
// implementation to load) and aws-xray-sdk-core's AWS SDK v2 patcher (never called: Powertools
// Tracer captures v3 clients). `gte` answers exactly that; any other version string or any
// other semver function throws, so a dependency that starts to need more fails loudly in the
// bundling test instead of comparing wrongly. Saves ~27 KB per traced function. Tests and the
// local mode run unbundled with the real package.
'use strict';

const PLAIN = /^v?(\d+)\.(\d+)\.(\d+)$/;

function parts(version) {
  const match = PLAIN.exec(String(version));
  if (!match) throw new Error(`semver stand-in: not a plain major.minor.patch version: ${version}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** True when version `a` >= version `b` (both plain `major.minor.patch`). */
function gte(a, b) {
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return true;
}

module.exports = { gte };
