import { z } from 'zod';
import { errorBody } from './errors.js';
import type { Route } from './route-table.js';
import { apiSchemaIds } from './views.js';

type JsonSchema = Record<string, unknown>;

const COMPONENT_REF = '#/components/schemas/';

/** `$defs` references point into components (every named schema is one); `$schema` and `$id` go. */
function asComponentRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asComponentRefs);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$defs' || key === '$schema' || key === '$id') continue;
    out[key] = key === '$ref' && typeof value === 'string' ? value.replace(/^#\/\$defs\//, COMPONENT_REF) : asComponentRefs(value);
  }
  return out;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id && apiSchemaIds.has(id) && io === 'output') return { $ref: `${COMPONENT_REF}${id}` };
  return asComponentRefs(z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' })) as JsonSchema;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || (object.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

/** The tags of the document, one per resource, in the order a reader meets them. */
const TAGS: Record<string, string> = {
  Health: 'Liveness, readiness and this document; no token needed.',
  Connectors: 'Configured tool connections (secrets are accepted, never returned), their checks, and the tool types.',
  Schedules: "A connector's daily sync schedule as Temporal has it: next runs, pause and unpause.",
  Records: "The projects, repositories, … a tool has, and their mapping to products.",
  Runs: 'Discover and sync runs (Operations): start one, then poll it until its status is final.',
  Findings: 'Products, tests, findings, what each reimport did, and a person\'s triage.',
  Tokens: 'API tokens and the audit log of every change (admin only).',
};

/** What every operation's description says about access, after what the route says about itself. */
function accessNote(route: Route): string {
  return route.public ? 'Public: no token needed.' : `Needs an API token of scope \`${route.scope}\` or above (read < operate < admin).`;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request (details.issues says where), malformed JSON, or an invalid cursor',
  401: 'missing, unknown, expired or revoked API token',
  403: "the token's scope is below the one this route needs (the message names it)",
  404: 'not found',
  409: 'conflicts with the current state (a duplicate, a disabled connector, an unmapped record)',
  413: 'request body too large',
  415: 'the body is not application/json',
  422: 'the tool refused the check: `code` is the error type (AUTH_REJECTED, CONFIG_INVALID, TOOL_UNAVAILABLE, …)',
  429: 'too many failed authentications from this address; wait for Retry-After seconds',
  500: 'internal error (no details are exposed)',
  503: 'Temporal is unavailable',
};

/**
 * The OpenAPI 3.1 document of the API, generated from the route table: the paths and methods the app
 * registers, and the zod schemas it validates with and answers in. Nothing is written by hand twice.
 */
export function openApiDocument(routes: readonly Route[], { license, ...info }: { title: string; version: string; license: string }): JsonSchema {
  const components = z.toJSONSchema(z.globalRegistry, { uri: (id) => `${COMPONENT_REF}${id}`, unrepresentable: 'any' }).schemas;
  const schemas: Record<string, unknown> = { Error: asComponentRefs(z.toJSONSchema(errorBody)) };
  for (const id of apiSchemaIds) schemas[id] = asComponentRefs(components[id]);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { [response.mediaType ?? 'application/json']: { schema: jsonSchema(response.schema, 'output') } } } : {}),
      };
    }
    const errorStatuses = new Set([
      ...(route.params || route.query || route.body ? [400] : []),
      ...(route.public ? [] : [401, 403, 429]),
      ...(route.body ? [413, 415] : []),
      ...(route.errors ?? []),
      ...(route.public ? [] : [500]),
    ]);
    for (const status of errorStatuses) {
      if (responses[status]) continue;
      responses[status] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'error',
        content: { 'application/json': { schema: { $ref: `${COMPONENT_REF}Error` } } },
      };
    }
    (paths[path] ??= {})[route.method] = {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: [route.description, accessNote(route)].filter(Boolean).join('\n\n'),
      // A bearer scheme has no scopes to list, so the scope a token needs is stated in words and as x-scope for tools.
      ...(route.public ? { security: [] } : { security: [{ bearerAuth: [] }], 'x-scope': route.scope }),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body
        ? { requestBody: { required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }
        : {}),
      responses,
    };
  }

  const used = new Set(routes.map((route) => route.tag));
  const unknownTag = [...used].find((tag) => !(tag in TAGS));
  if (unknownTag) throw new Error(`route tag ${unknownTag} has no description in openapi.ts`);

  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'vulnsync keeps a vulnerability database in step with the security tools a team runs. ' +
        'Lists take `limit`, `cursor`, `count=true` and `ordering` (`field` or `-field`); an unknown query parameter is a 400 naming it. ' +
        'Finding ids are decimal strings (they are bigints, beyond what a JSON number holds exactly).',
      license: { name: license, identifier: license },
      contact: { name: 'vulnsync maintainers' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/', description: 'the server that serves this document' }],
    tags: Object.entries(TAGS)
      .filter(([name]) => used.has(name))
      .map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API token (npm run token:create -- <name> --scope read|operate|admin); scopes are ordered read < operate < admin' } },
      schemas,
    },
  };
}
