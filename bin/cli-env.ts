/**
 * Process defaults of the local CLI, imported FIRST by bin/stagegate.ts (before any handler
 * module creates its Powertools logger and metrics): metrics are not emitted locally (there is
 * no CloudWatch to read the EMF lines) and handler logs stay quiet unless asked for.
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_SERVICE_NAME ??= 'stagegate';
