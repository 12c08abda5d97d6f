import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { defineRoute, type Route } from '../route-table.js';

const READINESS_TIMEOUT_MS = 3_000;

const checkState = z.enum(['ok', 'failing']);
const readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  failing: z.array(z.enum(['PostgreSQL', 'Temporal'])).describe('the checks that failed'),
  checks: z.object({ postgresql: checkState, temporal: checkState }),
});

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `/healthz` says the process is up; `/readyz` says it can serve: PostgreSQL answers `select 1` and
 * Temporal answers `getSystemInfo`, each within a few seconds. The answer names a failing check but not
 * its error (it is public), which goes to the log instead.
 *
 * The Temporal client retries an unavailable server in the background past any deadline, so one probe at
 * a time is in flight and `settle()` waits for it: the Temporal connection must not close under it.
 */
export function healthRoutes(deps: { client: Client; logger: Logger }): { routes: Route[]; settle(): Promise<void> } {
  async function probe(name: string, work: () => Promise<unknown>): Promise<'ok' | 'failing'> {
    try {
      await within(READINESS_TIMEOUT_MS, work());
      return 'ok';
    } catch (err) {
      deps.logger.warn({ check: name, err: err instanceof Error ? err.message : String(err) }, 'readiness check failed');
      return 'failing';
    }
  }

  let temporalInFlight: Promise<unknown> | null = null;
  const temporalProbe = () =>
    (temporalInFlight ??= deps.client.connection
      .withDeadline(Date.now() + READINESS_TIMEOUT_MS - 500, () => deps.client.workflowService.getSystemInfo({}))
      .finally(() => {
        temporalInFlight = null;
      }));

  const routes: Route[] = [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      tag: 'Health',
      summary: 'The process is up',
      public: true,
      responses: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
      async handle() {
        return { status: 200, body: { status: 'ok' } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      tag: 'Health',
      summary: 'PostgreSQL and Temporal answer',
      public: true,
      responses: {
        200: { description: 'ready', schema: readiness },
        503: { description: 'a dependency is failing; `failing` names it', schema: readiness },
      },
      async handle({ em }) {
        const [postgresql, temporal] = await Promise.all([
          probe('PostgreSQL', () => em.execute('select 1')),
          probe('Temporal', temporalProbe),
        ]);
        const failing = [...(postgresql === 'failing' ? ['PostgreSQL' as const] : []), ...(temporal === 'failing' ? ['Temporal' as const] : [])];
        return {
          status: failing.length ? 503 : 200,
          body: { status: failing.length ? 'unavailable' : 'ready', failing, checks: { postgresql, temporal } },
        };
      },
    }),
  ];
  return {
    routes,
    async settle() {
      await temporalInFlight?.catch(() => undefined);
    },
  };
}
