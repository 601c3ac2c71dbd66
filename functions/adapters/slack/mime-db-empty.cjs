// Stand-in for the `mime-db` package inside the deployed bundles (an esbuild alias in
// lib/constructs/bundling.ts): an empty MIME database. In the Slack functions `mime-db` is
// reached only through @slack/web-api -> axios/form-data -> mime-types, where it guesses the
// content type of an uploaded file part from its file name; stagegate posts messages and
// uploads no file, and a file part would be sent as application/octet-stream. Saves ~134 KB
// per Slack function. Tests and the local mode run unbundled with the real database.
'use strict';
module.exports = {};
