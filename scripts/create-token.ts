/**
 * `npm run token:create -- <name>` — creates an API token and prints it once. Only its SHA-256 is stored,
 * so a lost token cannot be shown again: create a new one.
 */
import { createApiToken } from '../src/api/tokens.js';
import { openDatabase } from '../src/db/database.js';

const name = process.argv.slice(2).join(' ').trim();
if (!name || name.length > 255) {
  console.error('usage: npm run token:create -- <name>   (who or what will use the token, at most 255 characters)');
  process.exit(2);
}

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vulnsync';
const orm = await openDatabase(url);
try {
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) throw new Error(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  const { token } = await createApiToken(orm.em.fork(), name);
  console.error(`created API token "${name}"; it is shown only once:`);
  console.log(token);
} catch (err) {
  console.error(`token:create: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exitCode = 1;
} finally {
  await orm.close();
}
