import type { NormalizedFinding } from '../types.js';
import type { Condition, FieldSource, FindingsStream } from './definition.js';
import { read, valueAt, type TemplateScope } from './select.js';

const NUMERIC_FIELDS = new Set(['line', 'cvssScore']);
const LIST_FIELDS = new Set(['cwes', 'vulnerabilityIds']);

export function holds(condition: Condition, item: unknown): boolean {
  return Object.entries(condition).every(([path, values]) => values.includes((valueAt(item, path) ?? null) as string | number | boolean | null));
}

/**
 * Maps one parsed item by its stream's field mapping and triage rules; null for an item that is not a
 * current finding (fixed, resolved), which the reimport then closes.
 */
export function findingFrom<Item>(stream: FindingsStream<Item>, item: Item, raw: unknown, scope: TemplateScope): NormalizedFinding | null {
  const outcome = stream.triage.find((rule) => (typeof rule.when === 'function' ? rule.when(item, scope) : holds(rule.when, item)))?.then ?? 'open';
  if (outcome === 'notCurrent') return null;
  const severityValue = read(stream.severity.from, item, scope);
  const severityKey = typeof severityValue === 'string' || typeof severityValue === 'number' ? String(severityValue).toLowerCase() : '';
  const finding: NormalizedFinding = {
    title: '',
    severity: stream.severity.map[severityKey] ?? stream.severity.otherwise,
    verified: stream.verifiedWhen ? holds(stream.verifiedWhen, item) : false,
    falseP: outcome === 'falseP',
    riskAccepted: outcome === 'riskAccepted',
    outOfScope: outcome === 'outOfScope',
    raw,
  };
  for (const [field, source] of Object.entries(stream.fields)) {
    if (source === undefined) continue;
    (finding as unknown as Record<string, unknown>)[field] = coerce(field, read(source as FieldSource<Item, unknown>, item, scope));
  }
  return finding;
}

/** A value in the type its Finding field has: numbers from numeric text, text from numbers, lists as given. */
function coerce(field: string, value: unknown): unknown {
  if (value === undefined || value === null || value === '') return field === 'title' ? '(untitled)' : null;
  if (LIST_FIELDS.has(field)) return Array.isArray(value) && value.length > 0 ? value : null;
  if (NUMERIC_FIELDS.has(field)) {
    const number = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(number) ? number : null;
  }
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** CWE numbers from the forms tools write them in ("CWE-79", "CWE-319: Cleartext …", 79), sorted, once each. */
export function cweNumbers(values: readonly unknown[] | null | undefined): number[] | null {
  const numbers = new Set<number>();
  for (const value of values ?? []) {
    const match = typeof value === 'number' ? [String(value), String(value)] : typeof value === 'string' ? /^\s*(?:CWE-)?(\d{1,6})\b/i.exec(value) : null;
    if (match) numbers.add(Number(match[1]));
  }
  return numbers.size > 0 ? [...numbers].sort((a, b) => a - b) : null;
}
