/**
 * Bundles the workflows into one file (`node --import tsx src/bundle-workflows.ts <file>`). The worker runs it
 * as a child process at start: webpack's peak (about 100 MB) then never counts against the worker's own RSS.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** The workflows' entry: TypeScript under tsx (dev, tests), JavaScript once compiled. */
export const workflowsPath = existsSync(here('./workflows/index.ts')) ? here('./workflows/index.ts') : here('./workflows/index.js');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: bundle-workflows.ts <file>');
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
  await writeFile(out, code);
}
