import { z } from 'zod';

/**
 * Environment configuration, parsed once at start. Temporal connection settings are not here: they
 * come from Temporal's standard environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a TOML profile), loaded by temporal/connection.ts.
 */
const schema = z.object({
  DATABASE_URL: z.url({ message: 'must be a postgres:// URL' }).default('postgres://postgres@127.0.0.1:5432/vulnsync'),
  VULNSYNC_SECRET_KEY: z
    .string({ message: 'is required: 32 random bytes, base64 (generate one with `openssl rand -base64 32`)' })
    .refine((v) => Buffer.from(v, 'base64').length === 32, { message: 'must be 32 bytes encoded as base64' }),
  VULNSYNC_TASK_QUEUE: z.string().min(1).default('vulnsync'),
  VULNSYNC_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  VULNSYNC_API_HOST: z.string().default('127.0.0.1'),
  VULNSYNC_TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  VULNSYNC_SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /** Longest wait a tool may ask for (Retry-After, rate-limit reset) before the next attempt; longer asks are cut to it. */
  VULNSYNC_MAX_TOOL_WAIT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  VULNSYNC_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(20),
  /** The ORM's connections (reimports, Operations, Records); each running reimport holds one. */
  VULNSYNC_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** Staging's connections; a fetch holds one only while it writes a page. Defaults to one per activity slot, at most 10. */
  VULNSYNC_STAGING_POOL_SIZE: z.coerce.number().int().min(1).max(1000).optional(),
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
