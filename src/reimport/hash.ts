import { createHash } from 'node:crypto';
import type { HashField, NormalizedFinding } from '../connectors/types.js';

type Canonical = null | number | boolean | string | Canonical[];

function canonicalValue(value: unknown): Canonical {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim().toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    return value
      .map(canonicalValue)
      .sort((a, b) => {
        const x = JSON.stringify(a);
        const y = JSON.stringify(b);
        return x < y ? -1 : x > y ? 1 : 0;
      });
  }
  return JSON.stringify(value);
}

/**
 * The canonical, unambiguous serialisation a hash is computed from (SPEC §4): the configured fields in
 * name order as `[name, value]` JSON pairs; strings trimmed and lower-cased; lists sorted; a missing
 * value is JSON `null`, which no string (not even "None" or "null") can equal.
 */
export function canonicalHashInput(finding: Partial<NormalizedFinding>, fields: readonly HashField[]): string {
  const names = [...new Set(fields)].sort();
  return JSON.stringify(names.map((name) => [name, canonicalValue(finding[name])]));
}

/** SHA-256 (hex) of the canonical serialisation; null when the tool hashes no fields. */
export function computeHashCode(finding: Partial<NormalizedFinding>, fields: readonly HashField[]): string | null {
  if (fields.length === 0) return null;
  return createHash('sha256').update(canonicalHashInput(finding, fields)).digest('hex');
}
