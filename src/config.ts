import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * Why a value is not a usable secret key, or null when it is: exactly 32 bytes of canonical base64.
 * Canonical, because Node's decoder skips stray characters and padding, so a mistyped key would
 * otherwise decode to some other 32 bytes and fail only when the first secret does not open.
 */
export function secretKeyProblem(value: string): string | null {
  const decoded = Buffer.from(value, 'base64');
  const hint = 'generate one with `openssl rand -base64 32`';
  if (decoded.length !== 32) return `must be 32 bytes encoded as base64 (this decodes to ${decoded.length}; ${hint})`;
  if (decoded.toString('base64') !== value) return `must be 32 bytes in canonical base64, without stray characters, spaces or missing padding (${hint})`;
  return null;
}

const secretKey = z.string().superRefine((value, ctx) => {
  const problem = secretKeyProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A comma-separated list, blanks dropped. */
const list = (item: z.ZodType<string, string>) =>
  z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(item));

const cidr = z.string().refine((v) => {
  try {
    ipaddr.parseCIDR(v);
    return true;
  } catch {
    return false;
  }
}, { message: 'must be CIDR networks, e.g. 10.0.0.0/8,fd00::/8' });

/**
 * `host:port` a worker endpoint listens on, or `off` (or empty) to serve none. Port 0 picks a free port,
 * which only tests want.
 */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const listenAddress = z
  .string()
  .transform((v) => v.trim())
  .refine((v) => v === '' || v === 'off' || Number(HOST_PORT.exec(v)?.[2] ?? NaN) <= 65535, {
    message: 'must be host:port (e.g. 127.0.0.1:9464), or off',
  })
  .transform((v) => (v === '' || v === 'off' ? null : v));

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Environment configuration, parsed once at start. Temporal connection settings are not here: they
 * come from Temporal's standard environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a TOML profile), loaded by temporal/connection.ts.
 */
const schema = z.object({
  DATABASE_URL: z.url({ message: 'must be a postgres:// URL' }).default('postgres://postgres@127.0.0.1:5432/vulnsync'),
  VULNSYNC_SECRET_KEY: z
    .string({ message: 'is required: 32 random bytes, base64 (generate one with `openssl rand -base64 32`)' })
    .pipe(secretKey),
  /** Keys that sealed secrets before the current one: they still open them until `npm run secrets:rotate`. */
  VULNSYNC_SECRET_KEYS_OLD: list(secretKey),
  /** Plain-http tool locations; on by default because self-hosted tools on a private network often have no TLS. */
  VULNSYNC_ALLOW_HTTP: booleanText.default(true),
  /** Networks no connection to a tool may reach, on top of the link-local and cloud metadata ones. */
  VULNSYNC_DENY_NETWORKS: list(cidr),
  /** Host names exempt from the outbound address check (a tool that really lives on a denied network). */
  VULNSYNC_ALLOW_HOSTS: list(z.string().min(1)),
  VULNSYNC_TASK_QUEUE: z.string().min(1).default('vulnsync'),
  VULNSYNC_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  VULNSYNC_API_HOST: z.string().default('127.0.0.1'),
  VULNSYNC_TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  /** Record syncs a connector sync runs at once; left out, the worker derives it from its capacity and the tool's limits. */
  VULNSYNC_SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(100).optional(),
  /** Longest wait a tool may ask for (Retry-After, rate-limit reset) before the next attempt; longer asks are cut to it. */
  VULNSYNC_MAX_TOOL_WAIT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** How long a finished or failed fetch (and its staged rows) is kept, in hours; older ones are swept. */
  VULNSYNC_FETCH_RETENTION_HOURS: z.coerce.number().min(5).max(24 * 365).default(48),
  VULNSYNC_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(20),
  /** The ORM's connections (reimports, Operations, Records); each running reimport holds one. */
  VULNSYNC_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** Staging's connections; a fetch holds one only while it writes a page. Defaults to one per activity slot, at most 10. */
  VULNSYNC_STAGING_POOL_SIZE: z.coerce.number().int().min(1).max(1000).optional(),
  /** Where the Temporal SDK's Prometheus exporter serves the worker's runtime metrics (`off` for none). */
  VULNSYNC_WORKER_METRICS_ADDRESS: listenAddress.default('127.0.0.1:9464'),
  /** Where the worker answers /healthz and its own /metrics (`off` for none). */
  VULNSYNC_WORKER_HEALTH_ADDRESS: listenAddress.default('127.0.0.1:9465'),
  /** A workflow bundle built by `npm run build`; by default the worker uses dist/workflow-bundle.js beside it, if there. */
  VULNSYNC_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

/** Thrown with one line per missing or bad variable; the values themselves are never echoed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
