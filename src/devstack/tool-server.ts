import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a tool server received, as a test (or a curious developer) may look at it. Credential headers are "[redacted]". */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** The request body as text ('' for none): APIs such as AWS's carry their parameters there. */
  body: string;
  /** The request's body parsed as JSON (a GraphQL query and its variables); absent when empty or not JSON. */
  json?: unknown;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface ToolServerState {
  requests: RecordedRequest[];
}

export interface ToolRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** As recorded: the text, and the JSON it holds when it does. */
  body: string;
  json?: unknown;
}

export interface ToolResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
}

export interface ToolServer<State extends ToolServerState> {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  state: State;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Takes over one request instead of the tool's normal answer (the test fakes inject faults this way):
 * answers true when it did. `normal` computes the answer the tool would give, `answer` sends it.
 */
export type Intercept = (request: ToolRequest, res: ServerResponse, normal: () => ToolResponse, answer: () => void) => boolean;

/** Headers never recorded verbatim, whatever the vendor. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'x-api-token', 'x-org-token', 'private-token', 'cookie', 'proxy-authorization']);

/**
 * Serves a stand-in of a vendor's API on 127.0.0.1 (port 0 unless given): the demo tools of `npm run dev`
 * and, with faults, the test fakes. Every request is recorded, then `handle` answers from `state`, plain
 * data that callers change between requests.
 */
export async function startToolServer<State extends ToolServerState>(
  state: State,
  handle: (request: ToolRequest, state: State) => ToolResponse,
  options: { port?: number; host?: string; intercept?: Intercept; onClose?: () => void } = {},
): Promise<ToolServer<State>> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => respond(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  const respond = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const json = parseJson(body);
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = CREDENTIAL_HEADERS.has(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
    }
    state.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      ...(json === undefined ? {} : { json }),
      at: Date.now(),
    });

    const request: ToolRequest = { method: req.method ?? 'GET', url, headers: req.headers, body, json };
    const normal = () => handle(request, state);
    const answer = () => {
      try {
        sendToolResponse(res, normal());
      } catch (error) {
        sendToolResponse(res, { status: 500, body: { message: `tool server failed: ${(error as Error).message}` } });
      }
    };
    if (!options.intercept?.(request, res, normal, answer)) answer();
  };

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    state,
    close: async () => {
      options.onClose?.();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export function sendToolResponse(res: ServerResponse, response: ToolResponse): void {
  if (res.headersSent || res.destroyed) return;
  const raw = 'rawBody' in response && typeof response.rawBody === 'string';
  const text = raw ? response.rawBody! : response.body === undefined ? '' : JSON.stringify(response.body);
  const headers: Record<string, string> = { ...response.headers };
  if (!raw && response.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/json; charset=utf-8';
  }
  res.writeHead(response.status, headers);
  res.end(text);
}

/** Page-number paging over a list, as most APIs do it: the slice and whether more follows. */
export function pageOf<T>(items: readonly T[], page: number, perPage: number): { items: T[]; hasNext: boolean; lastPage: number } {
  const start = (page - 1) * perPage;
  return {
    items: items.slice(start, start + perPage),
    hasNext: start + perPage < items.length,
    lastPage: Math.max(1, Math.ceil(items.length / perPage)),
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
