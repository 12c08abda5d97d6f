import type { z } from 'zod';
import { ConnectorError } from '../errors.js';

/**
 * Validates a connector's settings with its own schema (defaults applied). Invalid settings are the
 * operator's to fix, so they fail fast as CONFIG_INVALID naming each bad field.
 */
export function parseSettings<S>(schema: z.ZodType<S>, settings: unknown, toolName: string): S {
  const parsed = schema.safeParse(settings ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(settings)'}: ${issue.message}`).join('; ');
  throw new ConnectorError('CONFIG_INVALID', `The ${toolName} settings are invalid: ${problems}`);
}

/**
 * Parses one item of a tool's answer with a (loose) schema of the fields a connector reads. An item that
 * lacks them is BAD_TOOL_DATA: retrying will not change what the tool sends.
 */
export function parseToolItem<T>(schema: z.ZodType<T>, item: unknown, toolName: string, what: string): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`)
    .join('; ');
  throw new ConnectorError('BAD_TOOL_DATA', `${toolName} sent ${what} this connector cannot read (${problems})`);
}
