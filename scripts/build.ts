/**
 * `npm run build` — the production build: compiles src/ to dist/ with tsc (migrations included, so
 * `node dist/migrate.js` finds them) and bundles the workflows ahead of time into dist/workflow-bundle.js,
 * which the compiled worker loads instead of running webpack at every start. The operator page's static
 * files (src/ui/) go to dist/ui/, where the compiled API serves them from.
 */
import { execFile } from 'node:child_process';
import { cp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

await rm(dist, { recursive: true, force: true });
try {
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root });
} catch (err) {
  const { stdout, stderr } = err as { stdout?: string; stderr?: string };
  process.stderr.write(`${stdout ?? ''}${stderr ?? ''}tsc failed\n`);
  process.exit(1);
}
await cp(`${root}src/ui`, `${dist}ui`, { recursive: true });
// From the compiled workflows, so the bundle is exactly the code tsc checked.
// webpack's build report only on failure.
const { code } = await bundleWorkflowCode({ workflowsPath: `${dist}workflows/index.js`, logger: new DefaultLogger('WARN') });
await writeFile(`${dist}workflow-bundle.js`, code);
process.stdout.write(`built dist/ (with dist/ui/) and dist/workflow-bundle.js (${(code.length / 1024 / 1024).toFixed(1)} MB)\n`);
