/** `npm run migration:create` — writes a new migration from the difference between entities and the database. */
import { ensureDatabase, openDatabase } from '../src/db/database.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vulnsync';
await ensureDatabase(url);
const orm = await openDatabase(url, { migrate: true });
const result = await orm.migrator.create(undefined, false, process.argv.includes('--initial'));
console.log(result.fileName ? `wrote ${result.fileName}` : 'no changes');
await orm.close();
