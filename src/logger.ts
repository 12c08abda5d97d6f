import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * The service's logger. Redaction is a second line of defence: secrets are never passed to it, and the
 * paths below are censored should one ever be.
 */
export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: {
      paths: ['secret', '*.secret', 'secretEncrypted', '*.secretEncrypted', 'authorization', '*.authorization', 'headers.authorization', 'token', '*.token'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
