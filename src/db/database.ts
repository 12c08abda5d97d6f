import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ormConfig } from './mikro-orm.config.js';

/** Creates the database named in the URL when it does not exist yet (connects to `postgres` to do so). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/** Opens the ORM; with `migrate`, brings the schema up to date with the committed migrations first. */
export async function openDatabase(databaseUrl: string, options: { migrate?: boolean; poolSize?: number } = {}): Promise<MikroORM> {
  const config = ormConfig(databaseUrl);
  const orm = await MikroORM.init(options.poolSize ? { ...config, pool: { ...config.pool, max: options.poolSize } } : config);
  if (options.migrate) await orm.migrator.up();
  return orm;
}

/**
 * A pool of plain connections for bulk work the ORM does not do (COPY into staging). An idle connection
 * PostgreSQL drops (a restart, an idle-session kill) is reported and replaced, never an uncaught error.
 */
export function openPool(databaseUrl: string, max = 4, onError: (err: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  pool.on('error', onError);
  return pool;
}
