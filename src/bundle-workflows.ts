/**
 * Bundles the workflows into one file (`node --import tsx src/bundle-workflows.ts <file>`). The worker runs it
 * as a child process at start: webpack's peak (about 100 MB) then never counts against the worker's own RSS.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** The workflows' entry: TypeScript under tsx (dev, tests), JavaScript once compiled. */
export const workflowsPath = existsSync(here('./workflows/index.ts')) ? here('./workflows/index.ts') : here('./workflows/index.js');

/** Bundles the workflows by running this file in a child process; `cleanUp` removes the bundle once it is not needed. */
export async function bundleInChildProcess(): Promise<{ codePath: string; cleanUp(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vulnsync-workflows-'));
  const codePath = join(dir, 'workflows.js');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), codePath]);
  return { codePath, cleanUp: () => rm(dir, { recursive: true, force: true }) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: bundle-workflows.ts <file>');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  await writeFile(out, code);
}
