/**
 * What `npm run dev` hands to `runDemo` in scripts/demo.ts once the stack is ready: where everything
 * listens, the environment the worker and the API run with, and a signal that fires on Ctrl-C so the
 * demo stops before the stack does.
 */
export interface DemoContext {
  apiUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string | undefined;
  databaseUrl: string;
  /** The worker/API environment from temporal-dev.yml as run natively (includes VULNSYNC_SECRET_KEY). */
  env: Record<string, string>;
  signal: AbortSignal;
  log: (message: string) => void;
}

/** The export scripts/demo.ts provides. */
export type RunDemo = (context: DemoContext) => Promise<unknown>;
