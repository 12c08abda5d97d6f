import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The machine's PostgreSQL cluster as Debian's postgresql-common runs it (`pg_ctlcluster <version> main`). */
async function cluster(): Promise<[string, string]> {
  const versions = (await readdir('/etc/postgresql')).sort();
  const version = versions.at(-1);
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return [version, 'main'];
}

async function ctl(action: 'start' | 'stop' | 'restart', extra: string[] = []): Promise<void> {
  await execFileAsync('pg_ctlcluster', ['--skip-systemctl-redirect', ...(await cluster()), action, ...extra]);
}

async function isUp(): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync('pg_lsclusters', ['--no-header']);
    const [version, name] = await cluster();
    return stdout.split('\n').some((line) => line.startsWith(`${version} `) && line.split(/\s+/)[1] === name && /\bonline\b/.test(line));
  } catch {
    return false;
  }
}

/**
 * Restarts PostgreSQL: `restart` is an orderly restart (fast shutdown), `crash` an immediate stop (no
 * checkpoint, so the start runs crash recovery and empties every UNLOGGED table) followed by a start.
 * Whatever happens, PostgreSQL is started again before this returns or throws.
 */
export async function restartPostgres(mode: 'restart' | 'crash'): Promise<void> {
  try {
    if (mode === 'restart') await ctl('restart', ['-m', 'fast']);
    else await ctl('stop', ['-m', 'immediate']);
  } finally {
    await ensurePostgresUp();
  }
}

/**
 * Starts PostgreSQL if it is down. Another program on the machine (a test run's global setup) may start it
 * at the same moment; a start that loses that race is fine as long as the server comes up.
 */
export async function ensurePostgresUp(): Promise<void> {
  if (await isUp()) return;
  try {
    await ctl('start');
  } catch (error) {
    for (let i = 0; i < 30; i++) {
      if (await isUp()) return;
      await delay(500);
    }
    throw error;
  }
}
