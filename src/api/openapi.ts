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
export function openApiDocument(routes: readonly Route[], info: { title: string; version: string }): JsonSchema {
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
      ...(route.description ? { description: route.description } : {}),
      // OpenAPI 3.1 lets a bearer requirement list roles: the scope a token needs, also as x-scope for tools.
      ...(route.public ? { security: [] } : { security: [{ bearerAuth: [route.scope] }], 'x-scope': route.scope }),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body
        ? { requestBody: { required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } }
        : {}),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: { ...info, description: 'vulnsync keeps a vulnerability database in step with the security tools a team runs.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'an API token (npm run token:create -- <name> --scope read|operate|admin); scopes are ordered read < operate < admin' } },
      schemas,
    },
  };
}
