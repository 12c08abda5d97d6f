import { hash } from 'node:crypto';
import type { HashField, NormalizedFinding } from '../connectors/types.js';

type Canonical = null | number | boolean | string | Canonical[];

function canonicalValue(value: unknown): Canonical {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim().toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => {
      const canonical = canonicalValue(item);
      return { canonical, key: JSON.stringify(canonical) };
    });
    return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((item) => item.canonical);
  }
  return JSON.stringify(value);
}

/** A tool's hash fields never change, and this runs for every staged item: sorted once per list. */
const sortedNamesOf = new WeakMap<readonly HashField[], HashField[]>();
function sortedNames(fields: readonly HashField[]): HashField[] {
  let names = sortedNamesOf.get(fields);
  if (!names) sortedNamesOf.set(fields, (names = [...new Set(fields)].sort()));
  return names;
}

/**
 * The canonical, unambiguous serialisation a hash is computed from (SPEC §4): the configured fields in
 * name order as `[name, value]` JSON pairs; strings trimmed and lower-cased; lists sorted; a missing
 * value is JSON `null`, which no string (not even "None" or "null") can equal.
 */
export function canonicalHashInput(finding: Partial<NormalizedFinding>, fields: readonly HashField[]): string {
  const names = sortedNames(fields);
  return JSON.stringify(names.map((name) => [name, canonicalValue(finding[name])]));
}

/** SHA-256 (hex) of the canonical serialisation; null when the tool hashes no fields. */
export function computeHashCode(finding: Partial<NormalizedFinding>, fields: readonly HashField[]): string | null {
  if (fields.length === 0) return null;
  return hash('sha256', canonicalHashInput(finding, fields));
}
