import { createHash } from 'node:crypto';
import type { NormalizedFinding } from '../connectors/types.js';
import { SEVERITIES, type Severity } from '../domain.js';

/**
 * What a tool sends is cleaned field by field before it is staged, so one odd item never fails a record's
 * sync every day: PostgreSQL's text and jsonb hold neither NUL nor lone UTF-16 surrogates, its integers and
 * b-tree index rows are bounded, and a title of megabytes helps nobody. An item that cannot be kept (no
 * title, a severity the connector did not map) is rejected with a reason; the rest of the record syncs.
 */

/** Longest text kept per field (characters); longer text is cut, with an ellipsis. */
const TEXT_LIMITS = {
  title: 1_000,
  description: 100_000,
  mitigation: 100_000,
  references: 100_000,
  cvssVector: 255,
  componentName: 1_000,
  componentVersion: 255,
  filePath: 4_096,
  endpoint: 4_096,
  vulnIdFromTool: 1_000,
} as const;

/** Tool ids are matched by an index whose rows PostgreSQL bounds; longer ids are replaced by a digest, which stays unique and stable. */
const MAX_TOOL_ID = 1_000;
const MAX_LIST_ITEMS = 1_000;
const MAX_VULNERABILITY_ID = 255;
const INT4_MAX = 2_147_483_647;

const NUL = String.fromCharCode(0);

/** Text PostgreSQL can hold: no NUL, lone surrogates replaced (U+FFFD). */
export function cleanText(value: string): string {
  const withoutNul = value.includes(NUL) ? value.replaceAll(NUL, '') : value;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}

/** Clean text cut to `max` characters (never inside a surrogate pair). */
export function cleanTextUpTo(value: string, max: number): string {
  const text = cleanText(value);
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).toWellFormed().replace(/\uFFFD$/, '')}…`;
}

const cleanOptional = (value: string | null | undefined, max: number) => (typeof value === 'string' ? cleanTextUpTo(value, max) : (value ?? null));

function cleanToolId(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return value ?? null;
  const text = cleanText(value);
  return text.length <= MAX_TOOL_ID ? text : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

const finiteOrNull = (n: number | null | undefined, min: number, max: number) =>
  typeof n === 'number' && Number.isFinite(n) && n >= min && n <= max ? n : null;

/** A JSON value PostgreSQL's jsonb takes: clean keys and strings, finite numbers; rebuilt only when needed. */
export function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[cleanText(key)] = cleanJson(v);
    return out;
  }
  return value ?? null;
}

/**
 * Whether a JSON text (as JSON.stringify writes it) carries what jsonb refuses: a NUL escape or a lone
 * surrogate, which JSON.stringify writes as a `\u` escape too. Most texts have no `\u` at all, so that is
 * looked for first: this runs on every raw item of a fetch.
 */
function jsonNeedsCleaning(text: string): boolean {
  if (!text.includes('\\u')) return false;
  return text.includes('\\u0000') || /\\ud[89a-f][0-9a-f]{2}/i.test(text);
}

/** The JSON text of a value as jsonb will take it: written once, and cleaned only when jsonb would refuse it. */
export function jsonForPostgres(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return jsonNeedsCleaning(text) ? JSON.stringify(cleanJson(value)) : text;
}

export type Cleaned = { finding: NormalizedFinding } | { rejected: string };

const storableText = (value: unknown, max: number) =>
  value === null || value === undefined || (typeof value === 'string' && value.length <= max && !value.includes(NUL) && value.isWellFormed());
const storableNumber = (value: unknown, min: number, max: number) =>
  value === null || value === undefined || (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max);

const TEXT_LIMIT_ENTRIES = Object.entries(TEXT_LIMITS) as [keyof typeof TEXT_LIMITS, number][];

/** Whether a finding can be stored as the tool sent it: the common case, checked without copying anything. */
function alreadyStorable(f: NormalizedFinding): boolean {
  for (const [field, max] of TEXT_LIMIT_ENTRIES) if (!storableText(f[field], max)) return false;
  if (!storableText(f.uniqueIdFromTool, MAX_TOOL_ID) || f.title.trim() !== f.title) return false;
  if (!storableNumber(f.cvssScore, 0, 10) || !storableNumber(f.line, 0, INT4_MAX) || (typeof f.line === 'number' && !Number.isInteger(f.line))) return false;
  if (Array.isArray(f.cwes) && (f.cwes.length > MAX_LIST_ITEMS || !f.cwes.every((c) => Number.isInteger(c) && c >= 0 && c <= INT4_MAX))) return false;
  if (Array.isArray(f.vulnerabilityIds) && (f.vulnerabilityIds.length > MAX_LIST_ITEMS || !f.vulnerabilityIds.every((v) => storableText(v, MAX_VULNERABILITY_ID)))) return false;
  return true;
}

/** The finding as it can be stored (its raw item is cleaned as it is written: jsonForPostgres), or why it cannot be. */
export function cleanFinding(f: NormalizedFinding): Cleaned {
  if (!SEVERITIES.includes(f.severity as Severity)) return { rejected: `unknown severity ${JSON.stringify(String(f.severity).slice(0, 40))}` };
  if (typeof f.title === 'string' && f.title !== '' && alreadyStorable(f)) return { finding: f };
  const title = typeof f.title === 'string' ? cleanTextUpTo(f.title, TEXT_LIMITS.title).trim() : '';
  if (!title) return { rejected: 'no title' };
  return {
    finding: {
      ...f,
      title,
      description: cleanOptional(f.description, TEXT_LIMITS.description),
      mitigation: cleanOptional(f.mitigation, TEXT_LIMITS.mitigation),
      references: cleanOptional(f.references, TEXT_LIMITS.references),
      cvssVector: cleanOptional(f.cvssVector, TEXT_LIMITS.cvssVector),
      componentName: cleanOptional(f.componentName, TEXT_LIMITS.componentName),
      componentVersion: cleanOptional(f.componentVersion, TEXT_LIMITS.componentVersion),
      filePath: cleanOptional(f.filePath, TEXT_LIMITS.filePath),
      endpoint: cleanOptional(f.endpoint, TEXT_LIMITS.endpoint),
      vulnIdFromTool: cleanOptional(f.vulnIdFromTool, TEXT_LIMITS.vulnIdFromTool),
      uniqueIdFromTool: cleanToolId(f.uniqueIdFromTool),
      cvssScore: finiteOrNull(f.cvssScore, 0, 10),
      line: finiteOrNull(f.line, 0, INT4_MAX) === null ? null : Math.trunc(f.line!),
      cwes: Array.isArray(f.cwes)
        ? f.cwes.filter((c) => Number.isInteger(c) && c >= 0 && c <= INT4_MAX).slice(0, MAX_LIST_ITEMS)
        : (f.cwes ?? null),
      vulnerabilityIds: Array.isArray(f.vulnerabilityIds)
        ? f.vulnerabilityIds
            .filter((v): v is string => typeof v === 'string')
            .map((v) => cleanTextUpTo(v, MAX_VULNERABILITY_ID))
            .slice(0, MAX_LIST_ITEMS)
        : (f.vulnerabilityIds ?? null),
    },
  };
}

/** Rejections of one fetch, as kept on its Import: the count, and how many per reason (the first reasons only). */
export interface RejectedItems {
  count: number;
  reasons: Record<string, number>;
}

const MAX_REASONS = 20;

export function addRejection(into: RejectedItems, reason: string): void {
  into.count++;
  if (reason in into.reasons || Object.keys(into.reasons).length < MAX_REASONS) into.reasons[reason] = (into.reasons[reason] ?? 0) + 1;
}
