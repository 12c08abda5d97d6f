/**
 * Creates the database when missing and applies the committed migrations: `npm run migrate` from source,
 * `npm run start:migrate` (node dist/migrate.js) from the production build.
 */
import { fileURLToPath } from 'node:url';
import { ensureDatabase, openDatabase } from './db/database.js';

/** Brings the database at `databaseUrl` up to date; answers the names of the migrations it applied. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  await ensureDatabase(databaseUrl);
  const orm = await openDatabase(databaseUrl);
  try {
    return (await orm.migrator.up()).map((m) => m.name);
  } finally {
    await orm.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const applied = await migrate(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vulnsync');
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema is up to date\n');
  } catch (err) {
    process.stderr.write(`vulnsync migrate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
