import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Resolves once the child has exited (or failed to spawn). Safe to call after the fact: a child that
 * already exited resolves at once, so callers never miss an exit that happened before they asked.
 */
export function whenExited(child: ChildProcess): Promise<ProcessExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => {
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });
}

/** Calls `onLine` for every line the stream carries, so output can be prefixed or kept without buffering it all. */
export function forEachLine(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

function sendSignal(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function whenGroupGone(pgid: number, deadline: number): Promise<boolean> {
  while (sendSignal(-pgid, 0)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

async function settled(child: ChildProcess, processGroup: boolean, deadline: number): Promise<boolean> {
  const exited = await Promise.race([whenExited(child).then(() => true), delay(Math.max(0, deadline - Date.now()), undefined, { ref: false }).then(() => false)]);
  if (!exited) return false;
  return processGroup && child.pid !== undefined ? whenGroupGone(child.pid, deadline) : true;
}

/**
 * Stops a child with SIGTERM and, if it is still there after `timeoutMs`, SIGKILL; resolves only when it
 * is gone. With `processGroup` (children spawned `detached`), the whole group is signalled and awaited,
 * because `npm run x` leaves the real program two processes below the one we spawned.
 */
export async function stopProcess(child: ChildProcess, options: { timeoutMs?: number; processGroup?: boolean } = {}): Promise<void> {
  const { timeoutMs = 10_000, processGroup = false } = options;
  const pid = child.pid;
  if (pid === undefined) return;
  const target = processGroup ? -pid : pid;
  sendSignal(target, 'SIGTERM');
  if (await settled(child, processGroup, Date.now() + timeoutMs)) return;
  sendSignal(target, 'SIGKILL');
  await settled(child, processGroup, Date.now() + 5_000);
}

/**
 * Returns a TCP port that was free on `host` a moment ago (bind to port 0, read it, release it). Another
 * process may take it before the caller binds; tests accept that small race to run side by side.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error(`could not read the port bound on ${host}`));
      });
    });
  });
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Runs a long-lived command in its own process group with each output line passed to `onLine`
 * (stderr included), so a terminal Ctrl-C reaches only the launcher, which then stops services in order.
 */
export function startService(
  name: string,
  command: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onLine: (line: string) => void },
): ServiceProcess {
  const [file, ...args] = command;
  if (!file) throw new Error(`service ${name} has an empty command`);
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  forEachLine(child.stdout, options.onLine);
  forEachLine(child.stderr, options.onLine);
  child.on('error', (error) => options.onLine(`could not start ${command.join(' ')}: ${error.message}`));
  return {
    name,
    child,
    exited: whenExited(child),
    stop: (timeoutMs = 15_000) => stopProcess(child, { timeoutMs, processGroup: true }),
  };
}
