import type { ServerResponse } from 'node:http';
import { startToolServer, sendToolResponse, type RecordedRequest, type ToolRequest, type ToolResponse, type ToolServer, type ToolServerState } from '../../src/devstack/tool-server.js';

export { pageOf } from '../../src/devstack/tool-server.js';
export type { RecordedRequest } from '../../src/devstack/tool-server.js';
export type FakeRequest = ToolRequest;
export type FakeResponse = ToolResponse;

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

export interface FakeState extends ToolServerState {
  requests: RecordedRequest[];
  faults: Fault[];
  /** Streamed answers (the `stream` fault), oldest first. */
  streams?: StreamedAnswer[];
}

export interface FakeServer<State extends FakeState> extends ToolServer<State> {
  /** Adds a fault (see Fault). */
  inject(fault: Fault): void;
}

/** An answer that is not JSON although it claims to be, as a proxy or a broken tool may send. */
export const MALFORMED_JSON: FaultResponse = {
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  rawBody: '[{"component": {"uuid": "truncated',
};

/**
 * Starts a fake vendor API on 127.0.0.1 (port 0 unless given): the tool server of src/devstack, where the
 * first matching unspent fault decides the answer, else `handle` does. Faults and state are plain data that
 * tests change between calls.
 */
export async function startFakeServer<State extends FakeState>(
  state: State,
  handle: (request: FakeRequest, state: State) => FakeResponse,
  options: { port?: number; host?: string } = {},
): Promise<FakeServer<State>> {
  const timers = new Set<NodeJS.Timeout>();
  const server = await startToolServer(state, handle, {
    ...options,
    onClose: () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
    intercept: (request, res, normal, answer) => {
      const fault = takeFault(state, request.url, request.body, request.json);
      if (!fault) return false;
      if ('cutAfterBytes' in fault) {
        const answered = normal();
        const text = 'rawBody' in answered && typeof answered.rawBody === 'string' ? answered.rawBody : JSON.stringify(answered.body ?? null);
        res.writeHead(answered.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
        res.write(text.slice(0, fault.cutAfterBytes), () => res.destroy());
      } else if ('stream' in fault) {
        (state.streams ??= []).push(streamAnswer(res, request.url.pathname, fault));
      } else if ('delayMs' in fault) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) answer();
        }, fault.delayMs);
        timers.add(timer);
      } else {
        sendToolResponse(res, fault);
      }
      return true;
    },
  });
  return { ...server, inject: (fault) => state.faults.push({ times: 1, ...fault }) };
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

