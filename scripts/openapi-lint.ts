import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One problem a linter found in the OpenAPI document. */
export interface OpenApiProblem {
  linter: 'redocly' | 'spectral';
  severity: 'error' | 'warning' | 'info' | 'hint';
  rule: string;
  message: string;
  where: string;
}

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(import.meta.url);

/** The JavaScript entry point of a package's command, run with this very Node (the project pins Node 24). */
function binOf(pkg: string, command: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const json = require(manifest) as { bin: string | Record<string, string> };
  const bin = typeof json.bin === 'string' ? json.bin : json.bin[command];
  if (!bin) throw new Error(`${pkg} has no ${command} command`);
  return join(dirname(manifest), bin);
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses a linter's JSON answer, or fails saying what the linter printed instead. */
function parsed<T>(linter: string, output: { code: number | null; stdout: string; stderr: string }): T {
  const start = output.stdout.search(/[[{]/);
  try {
    return JSON.parse(output.stdout.slice(Math.max(start, 0))) as T;
  } catch {
    throw new Error(`${linter} did not answer JSON (exit ${output.code}): ${output.stderr || output.stdout}`.slice(0, 4000));
  }
}

/** Redocly's recommended rules (redocly.yaml), every problem whatever its severity. */
async function redocly(file: string): Promise<OpenApiProblem[]> {
  const output = await run([binOf('@redocly/cli', 'redocly'), 'lint', '--config', join(root, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000', file]);
  const report = parsed<{ problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[] }>('redocly', output);
  return report.problems.map((p) => ({
    linter: 'redocly',
    severity: p.severity === 'error' ? 'error' : 'warning',
    rule: p.ruleId,
    message: p.message,
    where: p.location[0]?.pointer ?? '',
  }));
}

const SPECTRAL_SEVERITY = ['error', 'warning', 'info', 'hint'] as const;

/** Spectral's `spectral:oas` recommended rules (.spectral.yaml), every problem whatever its severity. */
async function spectral(file: string): Promise<OpenApiProblem[]> {
  const output = await run([binOf('@stoplight/spectral-cli', 'spectral'), 'lint', '--ruleset', join(root, '.spectral.yaml'), '--format', 'json', '--quiet', file]);
  if (output.stdout.trim() === '' && output.code === 0) return [];
  const report = parsed<{ code: string; message: string; severity: number; path: (string | number)[] }[]>('spectral', output);
  return report.map((p) => ({
    linter: 'spectral',
    severity: SPECTRAL_SEVERITY[p.severity] ?? 'error',
    rule: String(p.code),
    message: p.message,
    where: `/${p.path.join('/')}`,
  }));
}

/** Every problem Redocly's and Spectral's recommended rules find in the OpenAPI document at `file`. */
export async function lintOpenApi(file: string): Promise<OpenApiProblem[]> {
  const [a, b] = await Promise.all([redocly(file), spectral(file)]);
  return [...a, ...b];
}

export const describeProblem = (p: OpenApiProblem) => `${p.linter} ${p.severity} ${p.rule} at ${p.where}: ${p.message}`;
