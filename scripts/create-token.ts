/**
 * `npm run token:create -- <name> [--scope read|operate|admin] [--expires 90d]` — creates an API token and
 * prints it once, alone on stdout (scripts capture it); everything else goes to stderr. Only its SHA-256 is
 * stored, so a lost token cannot be shown again: create a new one.
 */
import { parseArgs } from 'node:util';
import { createApiToken, defaultTokenScope, parseTokenExpiry } from '../src/api/tokens.js';
import { openDatabase } from '../src/db/database.js';
import { TOKEN_SCOPES, type TokenScope } from '../src/domain.js';

const USAGE = `usage: npm run token:create -- <name> [--scope ${TOKEN_SCOPES.join('|')}] [--expires 90d|12h|4w|<ISO date>]
  <name>     who or what will use the token, at most 255 characters
  --scope    read (GET), operate (runs, mappings, triage) or admin (connectors, schedules, tokens, audit);
             default: admin for the first token of the database, read for every later one
  --expires  when the token stops working; default: never`;

function fail(message: string): never {
  console.error(`token:create: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ options: { scope: { type: 'string' }; expires: { type: 'string' } }; allowPositionals: true }>>;
try {
  parsed = parseArgs({ options: { scope: { type: 'string' }, expires: { type: 'string' } }, allowPositionals: true });
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
const name = parsed.positionals.join(' ').trim();
if (!name || name.length > 255) fail('give the token a name');
const askedScope = parsed.values.scope;
if (askedScope !== undefined && !(TOKEN_SCOPES as readonly string[]).includes(askedScope)) fail(`--scope must be one of ${TOKEN_SCOPES.join(', ')}`);
let expiresAt: Date | null = null;
try {
  expiresAt = parsed.values.expires === undefined ? null : parseTokenExpiry(parsed.values.expires);
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/vulnsync';
const orm = await openDatabase(url);
try {
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) throw new Error(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  const em = orm.em.fork();
  const scope = (askedScope as TokenScope | undefined) ?? (await defaultTokenScope(em));
  const { token } = await createApiToken(em, { name, scope, expiresAt });
  const expiry = expiresAt ? `expires ${expiresAt.toISOString()}` : 'does not expire';
  console.error(`created API token "${name}" with scope ${scope}${askedScope ? '' : ' (the default)'}; it ${expiry} and is shown only once:`);
  console.log(token);
} catch (err) {
  console.error(`token:create: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exitCode = 1;
} finally {
  await orm.close();
}
