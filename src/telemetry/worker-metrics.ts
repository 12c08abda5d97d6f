import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorType } from '../errors.js';
import { ToolCallTally } from './tool-call-tally.js';

/**
 * What only the worker process sees, counted in its own registry (one per worker, so several workers in
 * one process never share or collide): every request to a tool's API and its error type, the findings
 * fetched, and the outcome of each record sync. Prometheus sums them across worker processes.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  /** The same tool calls, kept for PostgreSQL (the API's /metrics reports every worker's). */
  readonly toolCallTally = new ToolCallTally();
  private readonly toolCalls = new Counter({
    name: 'vulnsync_tool_api_calls_total',
    help: 'Requests sent to a tool API (each retry counts), by tool',
    labelNames: ['tool'] as const,
    registers: [this.registry],
  });
  private readonly toolErrors = new Counter({
    name: 'vulnsync_tool_api_errors_total',
    help: 'Tool API requests that failed, by tool and error type (AUTH_REJECTED, RATE_LIMITED, TOOL_UNAVAILABLE, ...)',
    labelNames: ['tool', 'type'] as const,
    registers: [this.registry],
  });
  private readonly findingsFetched = new Counter({
    name: 'vulnsync_findings_fetched_total',
    help: 'Findings fetched from tools into staging, by tool',
    labelNames: ['tool'] as const,
    registers: [this.registry],
  });
  private readonly recordSyncs = new Counter({
    name: 'vulnsync_record_syncs_total',
    help: 'Record syncs this worker finished, by outcome (succeeded, failed)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vulnsync_worker_' });
  }

  /** One request to `tool`'s API; `errorType` null when it was answered as hoped. */
  toolCall(tool: string, errorType: ErrorType | null): void {
    this.toolCalls.inc({ tool });
    if (errorType) this.toolErrors.inc({ tool, type: errorType });
    this.toolCallTally.add(tool, errorType);
  }

  fetched(tool: string, findings: number): void {
    if (findings > 0) this.findingsFetched.inc({ tool }, findings);
  }

  recordSync(status: 'succeeded' | 'failed'): void {
    this.recordSyncs.inc({ status });
  }
}

export interface HealthServer {
  /** `http://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/**
 * The worker's own small HTTP server: `/healthz` is 200 while the worker is RUNNING (503 with its state
 * otherwise) and `/metrics` serves the worker's registry. No token: like the API's probes, it says nothing
 * secret, and it listens on 127.0.0.1 unless configured otherwise.
 */
export async function startHealthServer(address: string, state: () => string, metrics: WorkerMetrics): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const current = state();
      res.writeHead(current === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: current === 'RUNNING' ? 'ok' : 'unavailable', worker: current }));
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(503).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route', details: null } }));
    }
  });
  const { host, port } = splitHostPort(address);
  server.listen(port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
