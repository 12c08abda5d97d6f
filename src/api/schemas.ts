import { z } from 'zod';
import { isBigintId, isRealInstant } from './input.js';

/** Shared pieces of request schemas (params, query filters, schedule input). */
export const idParams = z.object({ id: z.guid().describe('the resource id (UUID)') });

/** A finding id: a positive bigint, kept as its decimal string so ids beyond 2^53 are not rounded. */
export const findingId = z
  .string()
  .regex(/^\d+$/, 'must be a finding id (a positive integer)')
  .refine(isBigintId, 'must be a finding id (a positive integer up to 9223372036854775807)');

export const findingIdParams = z.object({ id: findingId.describe('the finding id (a positive integer, up to 19 digits)') });

/** A UTC date-time (`2026-01-31T12:00:00Z`) that names a real instant, as a Date. */
export const instant = z.iso
  .datetime()
  .refine(isRealInstant, 'must be a real date and time')
  .transform((value) => new Date(value));

/** A boolean in a query string: exactly `true` or `false`. */
export const queryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');

/** An IANA time zone name the runtime knows (the Temporal server resolves the same names). */
export const timezone = z
  .string()
  .min(1)
  .max(64)
  .regex(/^(UTC|[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*)$/, 'must be an IANA time zone name such as Europe/Paris')
  .refine(isKnownTimeZone, 'is not a known IANA time zone')
  .describe('IANA time zone name, e.g. Europe/Paris');

function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const scheduleInput = z.strictObject({
  hour: z.number().int().min(0).max(23),
  minute: z.number().int().min(0).max(59),
  timezone,
});
