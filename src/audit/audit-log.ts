import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditEvent } from '../db/entities.js';
import type { AuditAction, AuditOutcome } from '../domain.js';

/** Keys whose values are never written to the audit log, at any depth: only that they were given. */
const SECRET_KEY = /secret|token|password|passphrase|credential|api[-_]?key|private/i;
const MAX_STRING = 200;
const MAX_DEPTH = 3;
const MAX_ITEMS = 20;

/**
 * A request body as the audit log keeps it: what was asked for, so a reader can tell what changed, with
 * the value of every secret-like key replaced by `[set]` and long strings and deep structures cut short.
 */
export function auditSummary(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') return value.length <= MAX_STRING ? value : `[${value.length} characters]`;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[${value.length} items]` : '[object]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => auditSummary(item, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `[${value.length - MAX_ITEMS} more]`] : items;
  }
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, SECRET_KEY.test(key) ? '[set]' : auditSummary(item, depth + 1)]),
    );
  }
  return null;
}

export interface AuditEntry {
  actor: { tokenId: string; name: string };
  action: AuditAction;
  target: { type: string; id: string | null };
  outcome: AuditOutcome;
  /** The HTTP status the caller was answered. */
  status: number;
  details: Record<string, unknown> | null;
}

/**
 * Writes one audit event, in its own statement: the log keeps failed attempts too, whatever their
 * transaction did. The time is the database's clock to the microsecond, so events a caller made one
 * after the other list in that order.
 */
export async function recordAuditEvent(em: EntityManager, entry: AuditEntry): Promise<void> {
  await em.insert(AuditEvent, {
    id: crypto.randomUUID(),
    at: raw('clock_timestamp()'),
    actorTokenId: entry.actor.tokenId,
    actorName: entry.actor.name,
    action: entry.action,
    targetType: entry.target.type,
    targetId: entry.target.id,
    outcome: entry.outcome,
    status: entry.status,
    details: entry.details,
  });
}
