import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ensureDatabase, openDatabase } from '../../src/db/database.js';
import { maintenanceUrl } from '../../src/devstack/postgres.js';

export interface TestDatabase {
  name: string;
  url: string;
  orm: MikroORM;
  /** Closes the ORM and drops the database, even with connections still open elsewhere; safe to call twice. */
  drop(): Promise<void>;
}

function serverUrl(): string {
  return process.env.VULNSYNC_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** Drops a database by name on the test server, disconnecting its remaining sessions. */
export async function dropTestDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: maintenanceUrl(serverUrl()) });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database named <prefix>_<random> (default vulnsync_test) with the committed migrations applied,
 * so each test file owns its data and can run in any order next to the others. The caller awaits `drop()`.
 */
export async function createTestDatabase(prefix = 'vulnsync_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  let orm: MikroORM;
  try {
    orm = await openDatabase(url.toString(), { migrate: true });
  } catch (error) {
    await dropTestDatabase(name);
    throw error;
  }
  let dropped = false;
  return {
    name,
    url: url.toString(),
    orm,
    async drop() {
      if (dropped) return;
      dropped = true;
      await orm.close(true);
      await dropTestDatabase(name);
    },
  };
}
