/**
 * `npm run secrets:rotate` — re-seals every connector secret under VULNSYNC_SECRET_KEY, opening them with
 * it or with a key of VULNSYNC_SECRET_KEYS_OLD. Prints how many were re-sealed, already current, or failed;
 * exits 1 when any failed (those connectors need their secret set again). Secrets are never printed.
 */
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { rotateConnectorSecrets } from '../src/db/rotate-secrets.js';
import { SecretBox } from '../src/db/secrets.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : String(err));
  process.exit(2);
}

const orm = await openDatabase(config.DATABASE_URL);
try {
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) throw new Error(`the database schema is behind (${pending.length} migration(s) pending): run \`npm run migrate\``);
  const box = new SecretBox(config.VULNSYNC_SECRET_KEY, config.VULNSYNC_SECRET_KEYS_OLD);
  const result = await rotateConnectorSecrets(orm, box);
  console.log(`resealed: ${result.resealed}`);
  console.log(`already current: ${result.alreadyCurrent}`);
  console.log(`failed: ${result.failed.length}`);
  for (const failure of result.failed) console.error(`  connector ${failure.connectorId} (${failure.label}): ${failure.reason}`);
  if (result.failed.length > 0) process.exitCode = 1;
} catch (err) {
  console.error(`secrets:rotate: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exitCode = 1;
} finally {
  await orm.close();
}
