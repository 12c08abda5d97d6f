import { pino, type Logger } from 'pino';

/**
 * The service's logger. Redaction is a second line of defence: secrets are never passed to it, and the
 * paths below are censored should one ever be.
 */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['secret', '*.secret', 'secretEncrypted', '*.secretEncrypted', 'authorization', '*.authorization', 'headers.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
