import { toolDisplayName } from '../connectors/index.js';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Connector } from '../db/entities.js';
import { connectorRunAttributes } from '../search-attributes.js';
import { connectorScheduleId, scheduledConnectorSyncWorkflowId } from '../workflow-ids.js';
import type { ConnectorSyncInput } from '../workflows/connector-sync.js';

export interface ScheduleSettings {
  taskQueue: string;
  /** Random delay added to each daily run, so many connectors do not all start at once. */
  jitter?: string;
  /** How late a missed run (server down) may still start. */
  catchupWindow?: string;
}

type ScheduledConnector = Pick<Connector, 'id' | 'tool' | 'label' | 'enabled' | 'scheduleHour' | 'scheduleMinute' | 'scheduleTimezone'>;

/** The note of a schedule paused because its connector is disabled (any other pause is a person's). */
const DISABLED_NOTE = 'connector disabled';

/** The Schedule of one connector: daily at its hour and minute in its timezone, overlap SKIP. */
export function connectorScheduleOptions(connector: ScheduledConnector, settings: ScheduleSettings): ScheduleOptions {
  const input: ConnectorSyncInput = { connectorId: connector.id, trigger: 'scheduled' };
  return {
    scheduleId: connectorScheduleId(connector.id),
    memo: { vulnsyncTaskQueue: settings.taskQueue },
    spec: {
      calendars: [{ hour: connector.scheduleHour, minute: connector.scheduleMinute, comment: 'daily sync' }],
      timezone: connector.scheduleTimezone,
      jitter: settings.jitter ?? '10m',
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'connectorSync',
      workflowId: scheduledConnectorSyncWorkflowId(connector.id),
      taskQueue: settings.taskQueue,
      args: [input],
      typedSearchAttributes: connectorRunAttributes(connector, 'scheduled'),
      staticSummary: `Scheduled sync of ${toolDisplayName(connector.tool)} connector "${connector.label}"`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: settings.catchupWindow ?? '1h' },
    state: { paused: !connector.enabled, note: connector.enabled ? undefined : DISABLED_NOTE },
  };
}

/**
 * Creates the connector's Schedule, or brings an existing one in line with the connector. Idempotent. A
 * pause a person made (through the API or the Temporal UI) survives while the connector stays enabled.
 */
export async function upsertConnectorSchedule(client: Client, connector: ScheduledConnector, settings: ScheduleSettings): Promise<void> {
  const options = connectorScheduleOptions(connector, settings);
  const handle = client.schedule.getHandle(options.scheduleId);
  try {
    await handle.update((previous) => {
      const pausedByPerson = previous.state.paused && previous.state.note !== DISABLED_NOTE;
      return {
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
        state: connector.enabled
          ? { ...previous.state, paused: pausedByPerson, note: pausedByPerson ? previous.state.note : undefined }
          : { ...previous.state, paused: true, note: DISABLED_NOTE },
      };
    });
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create(options);
  }
}

export async function deleteConnectorSchedule(client: Client, connectorId: string): Promise<void> {
  try {
    await client.schedule.getHandle(connectorScheduleId(connectorId)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

export async function describeConnectorSchedule(client: Client, connectorId: string): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(connectorScheduleId(connectorId)).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/**
 * Makes Temporal's schedules match the connectors table (run at worker start): every connector has its
 * schedule with its current settings, and schedules of deleted connectors are removed. Only schedules this
 * deployment made (same task queue, kept in the memo) are considered, so deployments can share a namespace.
 */
export async function reconcileSchedules(client: Client, orm: MikroORM, settings: ScheduleSettings, logger: Logger): Promise<void> {
  const connectors = await orm.em.fork().find(Connector, {});
  const wanted = new Set(connectors.map((c) => connectorScheduleId(c.id)));
  for (const connector of connectors) await upsertConnectorSchedule(client, connector, settings);
  let removed = 0;
  for await (const schedule of client.schedule.list()) {
    const ours = schedule.memo?.vulnsyncTaskQueue === settings.taskQueue;
    const connectorId = SCHEDULE_ID.exec(schedule.scheduleId)?.[1];
    if (!ours || !connectorId || wanted.has(schedule.scheduleId)) continue;
    // A connector created since the list above was read has its schedule already: look again before deleting.
    if (await orm.em.fork().count(Connector, { id: connectorId })) continue;
    await client.schedule.getHandle(schedule.scheduleId).delete();
    removed++;
  }
  logger.info({ schedules: connectors.length, removed }, 'connector schedules reconciled');
}

const SCHEDULE_ID = /^connector-([0-9a-f-]{36})-sync$/;

/**
 * Reconciles the schedules, retrying with backoff (1 s doubling to 1 min) until it succeeds or `signal`
 * aborts; it never throws, so a Temporal that is slow at start only delays the schedules.
 */
export async function reconcileSchedulesUntilDone(
  client: Client,
  orm: MikroORM,
  settings: ScheduleSettings,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  for (let delayMs = 1_000; !signal.aborted; delayMs = Math.min(delayMs * 2, 60_000)) {
    try {
      await reconcileSchedules(client, orm, settings, logger);
      return;
    } catch (err) {
      if (signal.aborted) return;
      logger.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delayMs }, 'reconciling connector schedules failed; retrying');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }
}
