import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake received, as a test may assert on it. Credential headers are recorded as "[redacted]". */
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

/** What a fault answers instead of the fake's normal behaviour. */
export type FaultResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { status: number; headers?: Record<string, string>; rawBody: string }
  | { delayMs: number }
  /** The normal answer, broken off (connection destroyed) after this many bytes of its body. */
  | { cutAfterBytes: number }
  /** A chunked body of `chunk` repeated up to `totalBytes`, or for ever when absent; what happened is in `state.streams`. */
  | { status: number; headers?: Record<string, string>; stream: { chunk: string; totalBytes?: number } };

/** One streamed answer as the fake saw it: how much it wrote, and whether the client hung up before the end. */
export interface StreamedAnswer {
  path: string;
  bytesWritten: number;
  finished: boolean;
  /** Resolves once the connection is closed, with true when the client closed it before the body ended. */
  closed: Promise<boolean>;
}

/** A fault injected into a fake: it hits the next `times` requests whose path matches, then is spent. */
export interface Fault {
  /** A path prefix or a pattern; every request when absent. */
  match?: string | RegExp;
  /** Query parameters the request must carry with these values (e.g. only page 2 of a listing). */
  query?: Record<string, string>;
  /** Text the request body must contain (APIs that page in the body, such as AWS's `NextToken`). */
  bodyIncludes?: string;
  /** Values the request's JSON body must hold at these dotted paths (a GraphQL page: `variables.after`). */
  body?: Record<string, unknown>;
  /** Default 1. */
  times?: number;
  respond: FaultResponse;
}

export interface FakeState {
  requests: RecordedRequest[];
  faults: Fault[];
  /** Streamed answers (the `stream` fault), oldest first. */
  streams?: StreamedAnswer[];
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** As recorded: the text, and the JSON it holds when it does. */
  body: string;
  json?: unknown;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
}

export interface FakeServer<State extends FakeState> {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  state: State;
  /** Adds a fault (see Fault). */
  inject(fault: Fault): void;
  /** Stops listening and drops open connections (pending slow answers included). */
  close(): Promise<void>;
}

/** Headers never recorded verbatim, whatever the vendor. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'x-api-token', 'x-org-token', 'private-token', 'cookie', 'proxy-authorization']);

/** An answer that is not JSON although it claims to be, as a proxy or a broken tool may send. */
export const MALFORMED_JSON: FaultResponse = {
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  rawBody: '[{"component": {"uuid": "truncated',
};

/**
 * Starts a fake vendor API on 127.0.0.1 (port 0 unless given). Every request is recorded, then the first
 * matching unspent fault decides the answer, else `handle` does. Faults and state are plain data that tests
 * change between calls.
 */
export async function startFakeServer<State extends FakeState>(
  state: State,
  handle: (request: FakeRequest, state: State) => FakeResponse,
  options: { port?: number; host?: string } = {},
): Promise<FakeServer<State>> {
  const timers = new Set<NodeJS.Timeout>();

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

    const request: FakeRequest = { method: req.method ?? 'GET', url, headers: req.headers, body, json };
    const fault = takeFault(state, url, body, json);
    const answer = () => {
      try {
        send(res, handle(request, state));
      } catch (error) {
        send(res, { status: 500, body: { message: `fake failed: ${(error as Error).message}` } });
      }
    };
    if (!fault) return answer();
    if ('cutAfterBytes' in fault) {
      const normal = handle(request, state);
      const text = 'rawBody' in normal && typeof normal.rawBody === 'string' ? normal.rawBody : JSON.stringify(normal.body ?? null);
      res.writeHead(normal.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
      res.write(text.slice(0, fault.cutAfterBytes), () => res.destroy());
      return;
    }
    if ('stream' in fault) {
      (state.streams ??= []).push(streamAnswer(res, url.pathname, fault));
      return;
    }
    if ('delayMs' in fault) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer();
      }, fault.delayMs);
      timers.add(timer);
      return;
    }
    send(res, fault);
  };

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    state,
    inject: (fault) => state.faults.push({ times: 1, ...fault }),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function takeFault(state: FakeState, url: URL, body: string, json: unknown): FaultResponse | null {
  const path = url.pathname;
  const index = state.faults.findIndex(
    (f) =>
      (f.times ?? 1) > 0 &&
      (f.match === undefined || (typeof f.match === 'string' ? path.startsWith(f.match) : f.match.test(path))) &&
      Object.entries(f.query ?? {}).every(([name, value]) => url.searchParams.get(name) === value) &&
      (f.bodyIncludes === undefined || body.includes(f.bodyIncludes)) &&
      Object.entries(f.body ?? {}).every(([path, value]) => path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], json) === value),
  );
  if (index < 0) return null;
  const fault = state.faults[index]!;
  fault.times = (fault.times ?? 1) - 1;
  if (fault.times <= 0) state.faults.splice(index, 1);
  return fault.respond;
}

/** Writes the chunk again and again, as fast as the client reads, until the total or until the client hangs up. */
function streamAnswer(res: ServerResponse, path: string, fault: Extract<FaultResponse, { stream: unknown }>): StreamedAnswer {
  const chunk = Buffer.from(fault.stream.chunk);
  const total = fault.stream.totalBytes ?? Infinity;
  const answer: StreamedAnswer = {
    path,
    bytesWritten: 0,
    finished: false,
    closed: new Promise((resolve) => res.once('close', () => resolve(!answer.finished))),
  };
  res.writeHead(fault.status, { 'Content-Type': 'application/json', ...fault.headers });
  const write = (): void => {
    while (!res.destroyed) {
      if (answer.bytesWritten >= total) {
        res.end(() => (answer.finished = true));
        return;
      }
      const piece = chunk.subarray(0, Math.min(chunk.length, total - answer.bytesWritten));
      answer.bytesWritten += piece.length;
      if (!res.write(piece)) {
        res.once('drain', write);
        return;
      }
    }
  };
  write();
  return answer;
}

function send(res: ServerResponse, response: FakeResponse): void {
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
