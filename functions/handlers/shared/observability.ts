/**
 * Powertools logger shared by every handler module (created once per cold start). Log level
 * from POWERTOOLS_LOG_LEVEL; service name from POWERTOOLS_SERVICE_NAME. Secrets never go
 * through it: handlers log ids and figures, not events wholesale.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'stagegate' });

/** The narrow logging surface helpers may depend on. */
export type NarrowLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
