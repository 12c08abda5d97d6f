/**
 * The one list of error types. Retryability is decided by type, never by class name, so an error
 * keeps its meaning when it crosses from a connector into an activity and into the Temporal UI.
 */
export const ERROR_TYPES = [
  'AUTH_REJECTED',
  'CONFIG_INVALID',
  'RECORD_MISSING',
  'RATE_LIMITED',
  'TOOL_UNAVAILABLE',
  'BAD_TOOL_DATA',
  /** A fetch's staged rows were not all there when it was applied; the workflow fetches again. */
  'STAGING_INCOMPLETE',
  /** A stored fetch or discovery position the connector does not read (written by another version of it). */
  'CURSOR_INVALID',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

/**
 * Types a retry of the same activity cannot fix: it fails fast and the operator sees the message
 * (STAGING_INCOMPLETE is fixed by fetching again, which the workflow does).
 */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = ['AUTH_REJECTED', 'CONFIG_INVALID', 'RECORD_MISSING', 'BAD_TOOL_DATA', 'STAGING_INCOMPLETE', 'CURSOR_INVALID'];

export function isRetryableType(type: ErrorType): boolean {
  return !NON_RETRYABLE_ERROR_TYPES.includes(type);
}

/** An error a connector raises about the tool it talks to. `retryAfterMs` carries the server's delay. */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly details: { status?: number; url?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return isRetryableType(this.type);
  }
}
