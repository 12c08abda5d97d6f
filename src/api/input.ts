import { ApiError } from './errors.js';

type Location = 'params' | 'query' | 'body';

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What no string the API accepts may contain: NUL (PostgreSQL text and jsonb refuse it) and lone UTF-16
 * surrogates (jsonb refuses their escapes; text silently turns them into U+FFFD). Checked once for every
 * route, before its schemas, so no handler can reach the database with one.
 */
export function stringProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain a NUL character';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/**
 * Whether a UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`) names a real instant PostgreSQL can hold: its
 * calendar fields survive a round trip through Date (no month 13, no February 30th) and the year is 1 or later.
 */
export function isRealInstant(value: string): boolean {
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString().slice(0, 19) === value.slice(0, 19);
}

const BIGINT_MAX = 9223372036854775807n;

/** Whether a string is a positive PostgreSQL bigint in plain decimal (a finding id), without losing a digit to a float. */
export function isBigintId(value: string): boolean {
  return /^[1-9]\d{0,18}$/.test(value) && BigInt(value) <= BIGINT_MAX;
}

/** Where a value sits, as a chain to its parent: a path is only spelled out for the one value refused. */
interface Place {
  parent: Place | null;
  key: string | number;
}

const MAX_PATH = 32;

/** The path to `place`, root first; only its first segments when the body nests deeper than anyone reads. */
function pathOf(place: Place | null): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at = place; at; at = at.parent) path.push(at.key);
  path.reverse();
  return path.length > MAX_PATH ? [...path.slice(0, MAX_PATH), '…'] : path;
}

/**
 * Walks a parsed params object, query or JSON body, keys included, without recursion (a body may nest
 * deeper than the stack), and answers 400 with the path of the first string that is not acceptable.
 */
export function refuseIllFormedStrings(location: Location, input: unknown): void {
  const pending: { value: unknown; place: Place | null }[] = [{ value: input, place: null }];
  while (pending.length > 0) {
    const { value, place } = pending.pop()!;
    if (typeof value === 'string') {
      const reason = stringProblem(value);
      if (reason) throw illFormed(location, pathOf(place), reason);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push({ value: item, place: { parent: place, key: index } }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        const reason = stringProblem(key);
        if (reason) throw illFormed(location, pathOf(place), `a key ${reason}`);
        pending.push({ value: item, place: { parent: place, key } });
      }
    }
  }
}

function illFormed(location: Location, path: (string | number)[], message: string): ApiError {
  // The offending key or value is not echoed: it may be the very byte sequence a log or terminal mishandles.
  const where = path.length > 0 ? `${location}.${path.join('.')}` : location;
  return new ApiError(400, 'VALIDATION_FAILED', `invalid request: ${where}: ${message}`, {
    issues: [{ in: location, path, code: 'invalid_string', message }],
  });
}
