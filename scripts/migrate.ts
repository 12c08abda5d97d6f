/** `npm run migrate` — creates the database when missing and applies the committed migrations. */
import { ensureDatabase, openDatabase } from '../src/db/database.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vulnsync';
await ensureDatabase(url);
const orm = await openDatabase(url);
const applied = await orm.migrator.up();
console.log(applied.length ? `applied ${applied.map((m) => m.name).join(', ')}` : 'schema is up to date');
await orm.close();
