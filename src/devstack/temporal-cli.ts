import { execFile, spawn } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { whenExited } from './processes.js';

const execFileAsync = promisify(execFile);

/**
 * The CLI release vulnsync runs its dev server and tests with (Server 1.29.1, UI 2.42.1). Later tags
 * declare `replace` directives, which `go install pkg@version` refuses.
 */
export const TEMPORAL_CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

const executableName = (name: string) => (process.platform === 'win32' ? `${name}.exe` : name);

export interface TemporalCliOptions {
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutableFile(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/** Finds `go` on PATH, under GOROOT, or at the official installer's location, which is often not on PATH in CI. */
export async function findGo(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const go = executableName('go');
  const candidates = [env.GOROOT ? join(env.GOROOT, 'bin', go) : undefined, join('/usr/local/go/bin', go)];
  const onPath = await findOnPath(go, env);
  if (onPath) return onPath;
  for (const candidate of candidates) {
    if (candidate && (await isExecutableFile(candidate))) return candidate;
  }
  return undefined;
}

async function goBinDirs(go: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync(go, ['env', 'GOBIN', 'GOPATH'], { env });
    const [gobin = '', gopath = ''] = stdout.split('\n').map((line) => line.trim());
    return [gobin, ...gopath.split(delimiter).filter(Boolean).map((dir) => join(dir, 'bin'))].filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Locates an installed Temporal CLI without building anything: `TEMPORAL_CLI` (which must then be
 * valid, so a typo is not silently replaced by another binary), PATH, Go's install directories
 * (`go env GOBIN`/`GOPATH`), then `~/go/bin`. The binary is cached outside the repository because it is
 * ~250 MB and takes minutes to build.
 */
export async function findTemporalCli(options: TemporalCliOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const temporal = executableName('temporal');
  if (env.TEMPORAL_CLI) {
    if (await isExecutableFile(env.TEMPORAL_CLI)) return env.TEMPORAL_CLI;
    throw new Error(`TEMPORAL_CLI is set to ${env.TEMPORAL_CLI}, which is not an executable file`);
  }
  const onPath = await findOnPath(temporal, env);
  if (onPath) return onPath;
  const go = await findGo(env);
  const dirs = [...(go ? await goBinDirs(go, env) : []), join(homedir(), 'go', 'bin')];
  for (const dir of dirs) {
    if (await isExecutableFile(join(dir, temporal))) return join(dir, temporal);
  }
  return undefined;
}

/**
 * Returns the path of a Temporal CLI, building it with `go install` into Go's bin directory when none is
 * found (its CDN is not reachable from every machine that runs vulnsync, the Go module proxy is). Build
 * output goes to this process's stderr so a first run shows progress instead of minutes of silence.
 */
export async function ensureTemporalCli(options: TemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((message: string) => console.error(message));
  const found = await findTemporalCli(options);
  if (found) return found;
  const go = await findGo(env);
  if (!go) {
    throw new Error(
      'The Temporal CLI was not found and Go is not installed to build it. Install Go, or put `temporal` on PATH, or set TEMPORAL_CLI to its path.',
    );
  }
  log(`Temporal CLI not found: building ${TEMPORAL_CLI_PACKAGE} with ${go} install. This takes a few minutes, once.`);
  const started = Date.now();
  const child = spawn(go, ['install', TEMPORAL_CLI_PACKAGE], { env, stdio: ['ignore', process.stderr, process.stderr], signal: options.signal });
  child.on('error', () => undefined);
  const { code, signal } = await whenExited(child);
  if (options.signal?.aborted) throw new Error('building the Temporal CLI was cancelled');
  if (code !== 0) throw new Error(`go install ${TEMPORAL_CLI_PACKAGE} failed (${signal ?? `exit code ${code}`})`);
  const installed = await findTemporalCli(options);
  if (!installed) throw new Error(`go install ${TEMPORAL_CLI_PACKAGE} succeeded but no temporal binary is in Go's bin directory`);
  log(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s: ${installed}`);
  return installed;
}
