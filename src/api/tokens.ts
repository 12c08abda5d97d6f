import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiToken } from '../db/entities.js';

/** The stored form of an API token: its SHA-256, hex. A database leak does not leak usable tokens. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: `vs_` and 32 random bytes, base64url. */
export function generateApiToken(): string {
  return `vs_${randomBytes(32).toString('base64url')}`;
}

/**
 * Creates an API token called `name` and returns it. The token itself is only ever in this return value
 * (the database keeps its hash), so the caller must hand it to the person now or it is lost.
 */
export async function createApiToken(em: EntityManager, name: string): Promise<{ id: string; name: string; token: string }> {
  const token = generateApiToken();
  const row = em.create(ApiToken, { name, tokenHash: hashApiToken(token) });
  await em.flush();
  return { id: row.id, name: row.name, token };
}
