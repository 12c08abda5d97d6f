/**
 * `npm run dev` — runs the stack of temporal-dev.yml without Docker: PostgreSQL (started if it is down),
 * the Temporal dev server with its UI and a database under .dev/temporal/, then the worker and the API,
 * then the demo of scripts/demo.ts. Ctrl-C stops the API, the worker and Temporal, in that order.
 * `npm run dev -- --no-demo` skips the demo.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import PinoPretty from 'pino-pretty';
import { ensureDatabase, openDatabase } from '../src/db/database.js';
import { readComposePlan, type ServiceProcessPlan } from '../src/devstack/compose.js';
import type { RunDemo } from '../src/devstack/demo-context.js';
import { ensureDevSecretKey } from '../src/devstack/dev-secret.js';
import { ensurePostgres } from '../src/devstack/postgres.js';
import { startService, type ProcessExit, type ServiceProcess } from '../src/devstack/processes.js';
import { ensureTemporalCli } from '../src/devstack/temporal-cli.js';
import { startTemporalDevServer } from '../src/devstack/temporal-server.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({ options: { 'no-demo': { type: 'boolean', default: false } } });

const log = (message: string) => console.log(`[dev] ${message}`);
// The services log pino JSON (what production ships to a log system); here it is made readable.
const pretty = PinoPretty.prettyFactory({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name', singleLine: true });
const readable = (line: string) => {
  if (!line.startsWith('{')) return line;
  try {
    return pretty(JSON.parse(line) as object).trimEnd();
  } catch {
    return line;
  }
};
const prefixed = (name: string) => (line: string) => console.log(`[${name}] ${readable(line)}`);
const describeExit = ({ code, signal }: ProcessExit) => (signal ? `signal ${signal}` : `code ${code}`);

const shutdown = new AbortController();
const running: { name: string; stop: () => Promise<void> }[] = [];
let exitCode = 0;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shutdown.signal.aborted) return;
    log(`${signal}: stopping the stack`);
    shutdown.abort();
  });
}

function stopWhenExited(name: string, exited: Promise<ProcessExit>): void {
  void exited.then((exit) => {
    if (shutdown.signal.aborted) return;
    log(`${name} exited unexpectedly (${describeExit(exit)}); stopping the stack`);
    exitCode = 1;
    shutdown.abort();
  });
}

function startAppService(name: string, plan: ServiceProcessPlan): ServiceProcess {
  log(`starting the ${name}: ${plan.command.join(' ')}`);
  const service = startService(name, plan.command, { cwd: repoRoot, env: { ...process.env, ...plan.env }, onLine: prefixed(name) });
  running.push({ name: `the ${name}`, stop: () => service.stop() });
  stopWhenExited(`the ${name}`, service.exited);
  return service;
}

async function waitForOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    shutdown.signal.throwIfAborted();
    try {
      const response = await fetch(url, { signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(2_000)]) });
      if (response.status === 200) return;
      last = `HTTP ${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
    await delay(500);
  }
}

async function loadDemo(): Promise<RunDemo | undefined> {
  const file = join(repoRoot, 'scripts', 'demo.ts');
  if (!existsSync(file)) return undefined;
  const module = (await import(pathToFileURL(file).href)) as { runDemo?: RunDemo };
  if (typeof module.runDemo !== 'function') throw new Error('scripts/demo.ts does not export a runDemo function');
  return module.runDemo;
}

async function runStack(): Promise<void> {
  const { signal } = shutdown;
  const secretKey = process.env.VULNSYNC_SECRET_KEY || (await ensureDevSecretKey(join(repoRoot, '.dev', 'secret-key')));
  const plan = await readComposePlan(join(repoRoot, 'temporal-dev.yml'), { repoRoot, env: { ...process.env, VULNSYNC_SECRET_KEY: secretKey } });

  const cliPath = await ensureTemporalCli({ log, signal });
  signal.throwIfAborted();

  await ensurePostgres(plan.databaseUrl, { log });
  await ensureDatabase(plan.databaseUrl);
  const orm = await openDatabase(plan.databaseUrl, { migrate: true });
  await orm.close();
  signal.throwIfAborted();

  if (plan.temporal.dbFilename) await mkdir(dirname(plan.temporal.dbFilename), { recursive: true });
  log(`starting the Temporal dev server on ${plan.temporal.ip}:${plan.temporal.port}`);
  const temporalOutput = prefixed('temporal');
  const temporal = await startTemporalDevServer({
    ...plan.temporal,
    cliPath,
    detached: true,
    onOutput: (line) => {
      if (!signal.aborted) temporalOutput(line);
    },
  });
  running.push({ name: 'the Temporal dev server', stop: temporal.stop });
  stopWhenExited('the Temporal dev server', temporal.exited);
  signal.throwIfAborted();

  startAppService('worker', plan.worker);
  startAppService('api', plan.api);
  await waitForOk(`${plan.apiUrl}/readyz`, 120_000);

  log('the stack is up:');
  log(`  API          ${plan.apiUrl}`);
  log(`  Temporal UI  ${plan.temporalUiUrl ?? '(headless)'}`);
  log(`  Temporal     ${plan.temporalAddress}, namespace ${plan.temporalNamespace}`);
  log(`  PostgreSQL   ${plan.databaseUrl}`);
  log('Press Ctrl-C to stop.');

  if (!flags['no-demo']) {
    const runDemo = await loadDemo();
    if (!runDemo) log('no scripts/demo.ts yet: skipping the demo');
    else {
      try {
        await runDemo({
          apiUrl: plan.apiUrl,
          temporalAddress: plan.temporalAddress,
          temporalNamespace: plan.temporalNamespace,
          temporalUiUrl: plan.temporalUiUrl,
          databaseUrl: plan.databaseUrl,
          env: plan.api.env,
          signal,
          log: prefixed('demo'),
        });
      } catch (error) {
        if (!signal.aborted) log(`the demo failed: ${(error as Error).stack ?? error}; the stack keeps running`);
      }
    }
  }

  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
}

try {
  await runStack();
} catch (error) {
  if (!shutdown.signal.aborted) {
    console.error(`[dev] ${(error as Error).message}`);
    exitCode = 1;
  }
} finally {
  shutdown.abort();
  for (const service of running.reverse()) {
    log(`stopping ${service.name}`);
    await service.stop().catch((error: Error) => log(`could not stop ${service.name}: ${error.message}`));
  }
  log('stopped');
}
process.exit(exitCode);
