import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '']);
const NOT_UP = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', '57P03']);

/** The URL of the server's `postgres` maintenance database, which exists on every cluster. */
export function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

async function probe(databaseUrl: string): Promise<Error | undefined> {
  const client = new pg.Client({ connectionString: maintenanceUrl(databaseUrl), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts every Debian-packaged cluster (`pg_ctlcluster`), the way these machines run PostgreSQL outside systemd. */
async function startLocalClusters(log: (message: string) => void): Promise<string[]> {
  const problems: string[] = [];
  let versions: string[];
  try {
    versions = await readdir('/etc/postgresql');
  } catch {
    return ['no PostgreSQL clusters are configured under /etc/postgresql'];
  }
  for (const version of versions) {
    log(`PostgreSQL is not running: starting cluster ${version}/main`);
    try {
      await execFileAsync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      problems.push(`pg_ctlcluster ${version} main start: ${(stderr || message).trim()}`);
    }
  }
  return problems;
}

/**
 * Resolves once the PostgreSQL server of `databaseUrl` accepts connections, starting a local cluster
 * when the server is on this machine and refuses connections. Fails with one message that says where it
 * looked and what to do, because a refused connection deep inside a test or the worker says neither.
 */
export async function ensurePostgres(
  databaseUrl: string,
  options: { log?: (message: string) => void; timeoutMs?: number } = {},
): Promise<void> {
  const log = options.log ?? ((message: string) => console.error(message));
  let error = await probe(databaseUrl);
  if (!error) return;
  const url = new URL(databaseUrl);
  const where = `${url.hostname || 'localhost'}:${url.port || 5432}`;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (!NOT_UP.has(code) || !LOCAL_HOSTS.has(url.hostname)) {
    throw new Error(`PostgreSQL at ${where} is not usable: ${error.message}`);
  }
  const problems = code === '57P03' ? [] : await startLocalClusters(log);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    await delay(500);
    error = await probe(databaseUrl);
    if (!error) return;
  }
  throw new Error(
    [`PostgreSQL at ${where} is not accepting connections (${error?.message}).`, ...problems, 'Start PostgreSQL, or point DATABASE_URL at a running server.'].join(
      '\n',
    ),
  );
}
