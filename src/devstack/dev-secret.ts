import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { secretKeyProblem } from '../config.js';

/**
 * Returns the development VULNSYNC_SECRET_KEY kept in `file`, creating 32 random bytes there (mode 0600)
 * the first time. A file that holds something else is an error, not replaced: connector secrets already
 * encrypted with it would become unreadable.
 */
export async function ensureDevSecretKey(file: string): Promise<string> {
  let key: string;
  try {
    key = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    key = randomBytes(32).toString('base64');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' }).catch(async (writeError: NodeJS.ErrnoException) => {
      if (writeError.code !== 'EEXIST') throw writeError;
      key = (await readFile(file, 'utf8')).trim();
    });
  }
  const problem = secretKeyProblem(key);
  if (problem) throw new Error(`${file} does not hold a usable key (it ${problem}); fix or delete it`);
  return key;
}
