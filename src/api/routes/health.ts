import type { Client } from '@temporalio/client';
import proto, { type google } from '@temporalio/proto';
import type { Logger } from 'pino';
import { z } from 'zod';
import { defineRoute, type Route } from '../route-table.js';

const READINESS_TIMEOUT_MS = 3_000;
/**
 * A poller seen this recently counts as a live worker. Workers long-poll for up to about 70 s and Temporal
 * records each poll when it starts, so a healthy worker is never older than that; a stopped one ages out.
 */
export const WORKER_POLL_FRESH_MS = 2 * 60_000;

const { TaskQueueType, TaskQueueKind } = proto.temporal.api.enums.v1;

const checkState = z.enum(['ok', 'failing']);
const readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  failing: z.array(z.enum(['PostgreSQL', 'Temporal', 'worker'])).describe('the checks that failed'),
  checks: z.object({
    postgresql: checkState,
    temporal: checkState,
    worker: checkState.describe('a worker polled the task queue for workflow and activity tasks within the last two minutes'),
  }),
});

const millisOf = (ts: google.protobuf.ITimestamp | null | undefined) =>
  ts ? Number(ts.seconds?.toString() ?? '0') * 1000 + Math.floor((ts.nanos ?? 0) / 1e6) : 0;

/** Whether a worker polls `taskQueue` for both workflow and activity tasks (SPEC: a sync needs both). */
async function workerPolls(client: Client, taskQueue: string): Promise<void> {
  const since = Date.now() - WORKER_POLL_FRESH_MS;
  const types = [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];
  // allSettled: a probe ends only when both calls have, so none is left retrying when the connection closes.
  const settled = await client.connection.withDeadline(Date.now() + READINESS_TIMEOUT_MS - 500, () =>
    Promise.allSettled(
      types.map((taskQueueType) =>
        client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        }),
      ),
    ),
  );
  const answers = settled.map((answer) => {
    if (answer.status === 'rejected') throw answer.reason;
    return answer.value;
  });
  const stale = answers.findIndex((answer) => !(answer.pollers ?? []).some((poller) => millisOf(poller.lastAccessTime) >= since));
  if (stale !== -1) throw new Error(`no worker polls task queue ${taskQueue} for ${stale === 0 ? 'workflow' : 'activity'} tasks`);
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `/healthz` says the process is up; `/readyz` says it can serve: PostgreSQL answers `select 1`, Temporal
 * answers `getSystemInfo`, and a worker polls the task queue (DescribeTaskQueue: without one, runs the API
 * starts would only wait), each within a few seconds. The answer names a failing check but not
 * its error (it is public), which goes to the log instead.
 *
 * The Temporal client retries an unavailable server in the background past any deadline, so one probe of
 * each kind at a time is in flight and `settle()` waits for it: the Temporal connection must not close under it.
 */
export function healthRoutes(deps: { client: Client; logger: Logger; taskQueue: string }): { routes: Route[]; settle(): Promise<void> } {
  async function probe(name: string, work: () => Promise<unknown>): Promise<'ok' | 'failing'> {
    try {
      await within(READINESS_TIMEOUT_MS, work());
      return 'ok';
    } catch (err) {
      deps.logger.warn({ check: name, err: err instanceof Error ? err.message : String(err) }, 'readiness check failed');
      return 'failing';
    }
  }

  // One probe of each kind in flight at a time, awaited by settle().
  const inFlight = new Map<string, Promise<unknown>>();
  const single = (name: string, work: () => Promise<unknown>) => () => {
    let running = inFlight.get(name);
    if (!running) {
      running = work().finally(() => inFlight.delete(name));
      inFlight.set(name, running);
    }
    return running;
  };
  const temporalProbe = single('Temporal', () =>
    deps.client.connection.withDeadline(Date.now() + READINESS_TIMEOUT_MS - 500, () => deps.client.workflowService.getSystemInfo({})),
  );
  const workerProbe = single('worker', () => workerPolls(deps.client, deps.taskQueue));

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
      summary: 'PostgreSQL and Temporal answer, and a worker polls the task queue',
      public: true,
      responses: {
        200: { description: 'ready', schema: readiness },
        503: { description: 'a dependency is failing; `failing` names it', schema: readiness },
      },
      async handle({ em }) {
        const [postgresql, temporal, worker] = await Promise.all([
          probe('PostgreSQL', () => em.execute('select 1')),
          probe('Temporal', temporalProbe),
          probe('worker', workerProbe),
        ]);
        const failing = (
          [
            ['PostgreSQL', postgresql],
            ['Temporal', temporal],
            ['worker', worker],
          ] as const
        )
          .filter(([, state]) => state === 'failing')
          .map(([name]) => name);
        return {
          status: failing.length ? 503 : 200,
          body: { status: failing.length ? 'unavailable' : 'ready', failing, checks: { postgresql, temporal, worker } },
        };
      },
    }),
  ];
  return {
    routes,
    async settle() {
      await Promise.all([...inFlight.values()].map((running) => running.catch(() => undefined)));
    },
  };
}
