import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isGrpcServiceError, ScheduleNotFoundError, type ScheduleDescription } from '@temporalio/client';
import { z } from 'zod';
import { minSecretLengthOf, type ToolConnector } from '../../connectors/types.js';
import { defaultOutbound } from '../../connectors/http/outbound.js';
import { Connector } from '../../db/entities.js';
import { SEVERITIES } from '../../domain.js';
import { checkConnector, openConnector } from '../../connectors/manage.js';
import {
  deleteConnectorSchedule,
  describeConnectorSchedule,
  upsertConnectorSchedule,
  type ScheduleSettings,
} from '../../temporal/schedules.js';
import { cancelConnectorRuns } from '../../temporal/runs.js';
import { connectorScheduleId } from '../../workflow-ids.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound, validationFailed, requireEnabled } from '../errors.js';
import { answerPage, findPage, keysetOf, orderedPageQuery, pageOf, type ListOrders } from '../pagination.js';
import { defineRoute, type Route } from '../route-table.js';
import { idParams, scheduleInput } from '../schemas.js';
import { connectorScheduleView, connectorView, runStartedView, syncStartedView, toConnectorView, toolView } from '../views.js';

const label = z.string().trim().min(1).max(255);
const secret = z.string().min(1).max(16_384).describe('the credential; stored encrypted, never returned');
const settings = z.record(z.string(), z.unknown()).describe("validated by the tool's settingsSchema (GET /api/v1/tools)");

const DEFAULT_CHECK_TIMEOUT_MS = 20_000;
const GRPC_NOT_FOUND = 5;


const CONNECTOR_ORDERS: ListOrders = {
  name: 'connectors',
  fields: { createdAt: 'timestamp', updatedAt: 'timestamp', label: 'text', tool: 'text' },
  idKind: 'uuid',
  default: 'createdAt',
};

/** Loads a connector or answers 404. */
export async function connectorOr404(em: EntityManager, id: string, options: { withSecret?: boolean } = {}): Promise<Connector> {
  const connector = await em.findOne(Connector, { id }, options.withSecret ? { populate: ['secretEncrypted'] } : {});
  if (!connector) throw notFound('connector', id);
  return connector;
}

function durationText(ms: number | undefined): string | null {
  if (ms === undefined) return null;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0 && ms >= size) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The routes of connectors, their checks, runs and schedules. A connector row and its Temporal schedule
 * change together: the row is written in a transaction that commits only once the schedule is upserted
 * (or deleted), so a Temporal failure leaves neither half-done.
 */
export function connectorRoutes(deps: ApiDeps, tools: Record<string, ToolConnector<any>>): Route[] {
  const scheduleSettings: ScheduleSettings = { taskQueue: deps.taskQueue, ...deps.schedule };
  const toolIds = Object.keys(tools);
  const checkTimeoutMs = deps.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const namespace = deps.client.options.namespace;
  const outbound = deps.outbound ?? defaultOutbound();

  /**
   * Where a tool may be: https (or http where allowed), no user info (credentials belong in the sealed
   * secret, not in a location that is shown and logged), and not a literal address the outbound check
   * would refuse anyway. Host names are checked again on every connection, on what they resolve to.
   */
  const location = z
    .url({ protocol: outbound.allowHttp ? /^https?$/ : /^https$/, message: outbound.allowHttp ? 'must be an http(s) URL' : 'must be an https URL' })
    .max(2048)
    .superRefine((value, ctx) => {
      // zod runs this refinement even when the URL check above failed: such a value is already refused.
      if (!URL.canParse(value)) return;
      const url = new URL(value);
      if (url.username || url.password) {
        ctx.addIssue({ code: 'custom', message: 'must not contain user info (user:password@); give the credential as the secret' });
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const refused = isIP(host) ? outbound.refusal(host) : null;
      if (refused) ctx.addIssue({ code: 'custom', message: `${refused}, which vulnsync does not connect to (link-local and cloud metadata addresses)` });
    });

  function toolOf(connector: Pick<Connector, 'tool'>): ToolConnector<any> {
    const tool = tools[connector.tool];
    if (!tool) throw new ApiError(422, 'CONFIG_INVALID', `this server has no connector for the tool "${connector.tool}"`);
    return tool;
  }

  function validSettings(tool: ToolConnector<any>, value: unknown): Record<string, unknown> {
    const parsed = tool.spec.settings.safeParse(value ?? {});
    if (!parsed.success) throw validationFailed('body', parsed.error, ['settings']);
    return parsed.data as Record<string, unknown>;
  }

  /**
   * Writes the connector in a transaction that commits only after its schedule is in line with it; a
   * schedule created for a connector whose insert then fails to commit is deleted again.
   */
  async function saveWithSchedule(em: EntityManager, write: (tx: EntityManager) => Promise<Connector>, options: { isNew?: boolean } = {}): Promise<Connector> {
    let scheduled: string | null = null;
    try {
      return await em.transactional(async (tx) => {
        const connector = await write(tx);
        await tx.flush();
        await upsertConnectorSchedule(deps.client, connector, scheduleSettings);
        scheduled = connector.id;
        return connector;
      });
    } catch (err) {
      if (scheduled && options.isNew) await deleteConnectorSchedule(deps.client, scheduled).catch(() => undefined);
      throw err;
    }
  }

  function scheduleAnswer(connector: Connector, description: ScheduleDescription): z.output<typeof connectorScheduleView> {
    const calendar = description.spec.calendars?.[0];
    return {
      scheduleId: description.scheduleId,
      paused: description.state.paused,
      note: description.state.note ?? null,
      hour: calendar?.hour[0]?.start ?? connector.scheduleHour,
      minute: calendar?.minute[0]?.start ?? connector.scheduleMinute,
      timezone: description.spec.timezone ?? 'UTC',
      jitter: durationText(description.spec.jitter),
      overlap: description.policies.overlap ?? 'SKIP',
      catchupWindow: durationText(description.policies.catchupWindow),
      nextRuns: description.info.nextActionTimes.map((date) => date.toISOString()),
      recentRuns: description.info.recentActions.map((run) => ({
        workflowId: run.action.workflow.workflowId,
        runId: run.action.workflow.firstExecutionRunId,
        scheduledAt: run.scheduledAt.toISOString(),
        startedAt: run.takenAt.toISOString(),
      })),
      temporalUrl: `${deps.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/schedules/${encodeURIComponent(description.scheduleId)}`,
    };
  }

  const scheduleMissing = (connector: Connector) =>
    new ApiError(404, 'SCHEDULE_NOT_FOUND', `the schedule ${connectorScheduleId(connector.id)} is missing in Temporal; PUT the schedule to re-create it`);

  async function describedSchedule(connector: Connector) {
    const description = await describeConnectorSchedule(deps.client, connector.id);
    if (!description) throw scheduleMissing(connector);
    return scheduleAnswer(connector, description);
  }

  /** Pauses or unpauses the connector's schedule, then answers it as Temporal has it. */
  async function setPaused(connector: Connector, paused: boolean, note: string) {
    const handle = deps.client.schedule.getHandle(connectorScheduleId(connector.id));
    try {
      await (paused ? handle.pause(note) : handle.unpause(note));
    } catch (err) {
      if (err instanceof ScheduleNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) throw scheduleMissing(connector);
      throw err;
    }
    return describedSchedule(connector);
  }

  /**
   * The stored secret was given for its location's origin and is sealed to it: moving the connector to
   * another origin without giving the secret again would send it to a host nobody vouched for.
   */
  function requireSameOrigin(from: string, to: string): void {
    const origin = (location: string) => (URL.canParse(location) ? new URL(location).origin : null);
    if (origin(from) !== null && origin(from) === origin(to)) return;
    throw new ApiError(
      400,
      'SECRET_REQUIRED',
      `moving the connector to another origin (${origin(to)}) needs its secret in the same request; the stored one stays with ${origin(from) ?? 'its location'}`,
      { issues: [{ in: 'body', path: ['secret'], code: 'custom', message: 'required when the location moves to another origin' }] },
    );
  }

  /** A secret shorter than the tool's minimum is refused: it is guessable, and too short to redact from messages. */
  function requireSecretLength(tool: ToolConnector<any>, secret: string): void {
    const minimum = minSecretLengthOf(tool);
    if (secret.length >= minimum) return;
    const message = `must be at least ${minimum} characters for ${tool.displayName}`;
    throw new ApiError(400, 'VALIDATION_FAILED', `invalid request: body.secret: ${message}`, {
      issues: [{ in: 'body', path: ['secret'], code: 'too_small', message }],
    });
  }

  async function check(connector: Connector): Promise<void> {
    const logger = deps.logger.child({ connectorId: connector.id, tool: connector.tool });
    await checkConnector(openConnector(connector, deps.secrets, (name) => toolOf({ tool: name })), { logger, outbound }, checkTimeoutMs);
  }


  const createBody = z.strictObject({
    tool: z.enum(toolIds as [string, ...string[]]).describe('a tool of GET /api/v1/tools'),
    label,
    location,
    secret,
    settings: settings.optional(),
    minSeverity: z.enum(SEVERITIES).optional().describe('findings below it are not imported (default Info)'),
    autoMap: z.boolean().optional().describe('map newly discovered records to a same-named product (default false)'),
    enabled: z.boolean().optional(),
    schedule: scheduleInput.optional().describe('the daily sync (default 03:00 UTC)'),
  });

  const patchBody = z.strictObject({
    label: label.optional(),
    location: location.optional(),
    secret: secret.optional(),
    settings: settings.optional(),
    minSeverity: z.enum(SEVERITIES).optional(),
    autoMap: z.boolean().optional(),
    enabled: z.boolean().optional(),
    schedule: scheduleInput.partial().optional(),
  });

  const connectorsQuery = orderedPageQuery(CONNECTOR_ORDERS).extend({ tool: z.string().max(64).optional() });
  const pauseBody = z.strictObject({ note: z.string().max(500).optional() }).optional();

  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/tools',
      operationId: 'listTools',
      scope: 'read',
      tag: 'Connectors',
      summary: 'The connector types this server supports, with their settings schema',
      responses: { 200: { description: 'the tools', schema: z.object({ items: z.array(toolView) }) } },
      async handle() {
        const items = Object.values(tools).map((tool) => ({
          tool: tool.tool,
          displayName: tool.displayName,
          settingsSchema: z.toJSONSchema(tool.spec.settings, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
          secretDescription: tool.spec.secretDescription,
          minSecretLength: minSecretLengthOf(tool),
          locationDescription: tool.spec.locationDescription,
          defaultLocation: tool.spec.defaultLocation ?? null,
          matching: tool.matching,
        }));
        return { status: 200, body: { items } };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/connectors',
      operationId: 'createConnector',
      scope: 'admin',
      audit: { action: 'connector.create', target: 'connector' },
      tag: 'Connectors',
      summary: 'Create a connector and its daily sync schedule',
      body: createBody,
      responses: { 201: { description: 'the connector', schema: connectorView } },
      errors: [409],
      async handle({ body, em }) {
        const tool = toolOf(body);
        const toolSettings = validSettings(tool, body.settings);
        requireSecretLength(tool, body.secret);
        // The id exists before the row does, because the sealed secret is bound to it.
        const id = randomUUID();
        const connector = await saveWithSchedule(em, async (tx) =>
          tx.create(Connector, {
            id,
            tool: body.tool,
            label: body.label,
            location: body.location,
            secretEncrypted: deps.secrets.seal(body.secret, { connectorId: id, location: body.location }),
            settings: toolSettings,
            minSeverity: body.minSeverity ?? 'Info',
            autoMap: body.autoMap ?? false,
            enabled: body.enabled ?? true,
            scheduleHour: body.schedule?.hour ?? 3,
            scheduleMinute: body.schedule?.minute ?? 0,
            scheduleTimezone: body.schedule?.timezone ?? 'UTC',
          }),
          { isNew: true },
        );
        return { status: 201, body: toConnectorView(connector) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/connectors',
      operationId: 'listConnectors',
      scope: 'read',
      tag: 'Connectors',
      summary: 'List connectors',
      query: connectorsQuery,
      responses: { 200: { description: 'a page of connectors', schema: pageOf(connectorView) } },
      async handle({ query, em }) {
        const page = await findPage(
          em,
          Connector,
          query.tool ? { tool: query.tool } : {},
          keysetOf(CONNECTOR_ORDERS, query.ordering),
          query,
        );
        return { status: 200, body: answerPage(page, toConnectorView) };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/connectors/:id',
      operationId: 'getConnector',
      scope: 'read',
      tag: 'Connectors',
      summary: 'Get a connector',
      params: idParams,
      responses: { 200: { description: 'the connector', schema: connectorView } },
      errors: [404],
      async handle({ params, em }) {
        return { status: 200, body: toConnectorView(await connectorOr404(em, params.id)) };
      },
    }),

    defineRoute({
      method: 'patch',
      path: '/api/v1/connectors/:id',
      operationId: 'updateConnector',
      scope: 'admin',
      audit: { action: 'connector.update', target: 'connector' },
      tag: 'Connectors',
      summary: 'Change a connector (and its schedule)',
      description:
        'Fields left out are kept. `settings` replaces the settings as a whole; `secret` replaces the stored secret. ' +
        "Moving the location to another origin (scheme, host or port) needs the `secret` in the same request (400 SECRET_REQUIRED otherwise): the stored secret only ever goes to the origin it was given for.",
      params: idParams,
      body: patchBody,
      responses: { 200: { description: 'the connector', schema: connectorView } },
      errors: [404, 409],
      async handle({ params, body, em }) {
        const connector = await saveWithSchedule(em, async (tx) => {
          const found = await connectorOr404(tx, params.id);
          if (body.location !== undefined && body.secret === undefined) requireSameOrigin(found.location, body.location);
          if (body.settings !== undefined) found.settings = validSettings(toolOf(found), body.settings);
          if (body.label !== undefined) found.label = body.label;
          if (body.location !== undefined) found.location = body.location;
          if (body.secret !== undefined) {
            requireSecretLength(toolOf(found), body.secret);
            found.secretEncrypted = deps.secrets.seal(body.secret, { connectorId: found.id, location: found.location });
          }
          if (body.minSeverity !== undefined) found.minSeverity = body.minSeverity;
          if (body.autoMap !== undefined) found.autoMap = body.autoMap;
          if (body.enabled !== undefined) found.enabled = body.enabled;
          if (body.schedule?.hour !== undefined) found.scheduleHour = body.schedule.hour;
          if (body.schedule?.minute !== undefined) found.scheduleMinute = body.schedule.minute;
          if (body.schedule?.timezone !== undefined) found.scheduleTimezone = body.schedule.timezone;
          return found;
        });
        return { status: 200, body: toConnectorView(connector) };
      },
    }),

    defineRoute({
      method: 'delete',
      path: '/api/v1/connectors/:id',
      operationId: 'deleteConnector',
      scope: 'admin',
      audit: { action: 'connector.delete', target: 'connector' },
      tag: 'Connectors',
      summary: 'Delete a connector, its records and its schedule, and cancel its running syncs and discoveries',
      description: 'Findings stay: their tests lose the link to the connector. Records (and their staging data) go.',
      params: idParams,
      responses: { 204: { description: 'deleted' } },
      errors: [404],
      async handle({ params, em }) {
        await em.transactional(async (tx) => {
          const deleted = await tx.nativeDelete(Connector, { id: params.id });
          if (deleted === 0) throw notFound('connector', params.id);
          await deleteConnectorSchedule(deps.client, params.id);
          await cancelConnectorRuns(deps.client, params.id);
        });
        return { status: 204 };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/connectors/:id/check',
      operationId: 'checkConnector',
      scope: 'operate',
      audit: { action: 'connector.check', target: 'connector' },
      tag: 'Connectors',
      summary: "Check the connector's location, credentials and permissions with one call to the tool",
      params: idParams,
      responses: {
        200: { description: 'the tool answered', schema: z.object({ ok: z.literal(true) }) },
      },
      errors: [404, 422],
      async handle({ params, em }) {
        await check(await connectorOr404(em, params.id, { withSecret: true }));
        return { status: 200, body: { ok: true } };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/connectors/:id/discover',
      operationId: 'discoverConnector',
      scope: 'operate',
      audit: { action: 'connector.discover', target: 'connector' },
      tag: 'Runs',
      summary: "Start discovering the tool's projects (records)",
      description: 'Poll GET /api/v1/operations/{operationId} until its status is final.',
      params: idParams,
      responses: { 202: { description: 'the run started', schema: runStartedView } },
      errors: [404, 409],
      async handle({ params, em }) {
        const connector = await connectorOr404(em, params.id);
        requireEnabled(connector);
        const { operationId, workflowId, runId, temporalUrl } = await deps.runs.discoverConnector(em, connector);
        return { status: 202, body: { operationId, workflowId, runId, temporalUrl } };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/connectors/:id/sync',
      operationId: 'syncConnector',
      scope: 'operate',
      audit: { action: 'connector.sync', target: 'connector' },
      tag: 'Runs',
      summary: 'Start a sync of every mapped record, or join the one running',
      description: 'Poll GET /api/v1/operations/{operationId} until its status is final.',
      params: idParams,
      responses: { 202: { description: 'the run started or joined', schema: syncStartedView } },
      errors: [404, 409],
      async handle({ params, em }) {
        const connector = await connectorOr404(em, params.id);
        requireEnabled(connector);
        const { operationId, workflowId, runId, temporalUrl, attached } = await deps.runs.syncConnector(em, connector);
        return { status: 202, body: { operationId, workflowId, runId, temporalUrl, attached } };
      },
    }),

    defineRoute({
      method: 'get',
      path: '/api/v1/connectors/:id/schedule',
      operationId: 'getConnectorSchedule',
      scope: 'read',
      tag: 'Schedules',
      summary: "The connector's sync schedule as Temporal has it, with its next runs",
      params: idParams,
      responses: { 200: { description: 'the schedule', schema: connectorScheduleView } },
      errors: [404],
      async handle({ params, em }) {
        return { status: 200, body: await describedSchedule(await connectorOr404(em, params.id)) };
      },
    }),

    defineRoute({
      method: 'put',
      path: '/api/v1/connectors/:id/schedule',
      operationId: 'setConnectorSchedule',
      scope: 'admin',
      audit: { action: 'schedule.update', target: 'schedule' },
      tag: 'Schedules',
      summary: 'Set the daily sync time (re-creates the Temporal schedule when missing)',
      params: idParams,
      body: scheduleInput,
      responses: { 200: { description: 'the schedule', schema: connectorScheduleView } },
      errors: [404],
      async handle({ params, body, em }) {
        const connector = await saveWithSchedule(em, async (tx) => {
          const found = await connectorOr404(tx, params.id);
          found.scheduleHour = body.hour;
          found.scheduleMinute = body.minute;
          found.scheduleTimezone = body.timezone;
          return found;
        });
        return { status: 200, body: await describedSchedule(connector) };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/connectors/:id/schedule/pause',
      operationId: 'pauseConnectorSchedule',
      scope: 'admin',
      audit: { action: 'schedule.pause', target: 'schedule' },
      tag: 'Schedules',
      summary: 'Pause the daily sync',
      params: idParams,
      body: pauseBody,
      responses: { 200: { description: 'the schedule', schema: connectorScheduleView } },
      errors: [404],
      async handle({ params, body, em }) {
        const connector = await connectorOr404(em, params.id);
        return { status: 200, body: await setPaused(connector, true, body?.note ?? 'paused through the vulnsync API') };
      },
    }),

    defineRoute({
      method: 'post',
      path: '/api/v1/connectors/:id/schedule/unpause',
      operationId: 'unpauseConnectorSchedule',
      scope: 'admin',
      audit: { action: 'schedule.unpause', target: 'schedule' },
      tag: 'Schedules',
      summary: 'Resume the daily sync',
      params: idParams,
      body: pauseBody,
      responses: { 200: { description: 'the schedule', schema: connectorScheduleView } },
      errors: [404, 409],
      async handle({ params, body, em }) {
        const connector = await connectorOr404(em, params.id);
        requireEnabled(connector, 'enable it to resume its schedule');
        return { status: 200, body: await setPaused(connector, false, body?.note ?? 'unpaused through the vulnsync API') };
      },
    }),
  ];
}
