import { defineConfig } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from './entities.js';

/** The ORM configuration; the database comes from DATABASE_URL unless a caller passes one. */
export function ormConfig(databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vulnsync') {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator],
    migrations: {
      path: new URL('./migrations', import.meta.url).pathname,
      pathTs: new URL('./migrations', import.meta.url).pathname,
      glob: '!(*.d).{js,ts}',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: 10 },
    debug: false,
  });
}

export default ormConfig();
