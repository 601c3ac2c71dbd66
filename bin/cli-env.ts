/**
 * Process defaults of the local CLI, imported FIRST by bin/stagegate.ts (before any handler
 * module creates its Powertools logger and metrics): metrics are not emitted locally (there is
 * no CloudWatch to read the EMF lines) and handler logs stay quiet unless asked for.
 *
 * `--verbose` is read here, from argv, not from Commander's parse: Powertools fixes its base
 * log level when the logger is created (from POWERTOOLS_LOG_LEVEL) and goes back to it after
 * every handler invocation, so a level set later by `logger.setLogLevel` holds for one
 * invocation only.
 */
const verbose = process.argv.slice(2).includes('--verbose');
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// The flag, when given, wins over an inherited POWERTOOLS_LOG_LEVEL.
if (verbose) process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
else process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_SERVICE_NAME ??= 'stagegate';
