import { z } from 'zod';
import { applicationMetrics } from '../../telemetry/application-metrics.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { defineRoute, type Route } from '../route-table.js';

/**
 * `/metrics` in Prometheus' text format: records, operations, run durations and per-sync reimport counts,
 * read from PostgreSQL (see telemetry/application-metrics.ts). Public like the probes: counts only.
 * The tools' API calls and errors are counted by the workers that make them, on each worker's `/metrics`.
 */
export function metricsRoutes(deps: Pick<ApiDeps, 'orm' | 'logger'>): Route[] {
  const registry = applicationMetrics(deps.orm);
  return [
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tag: 'Health',
      summary: 'Application metrics for Prometheus',
      public: true,
      responses: { 200: { description: 'Prometheus text exposition format', schema: z.string(), mediaType: registry.contentType } },
      errors: [503],
      async handle() {
        let text: string;
        try {
          text = await registry.metrics();
        } catch (err) {
          deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading metrics from PostgreSQL failed');
          throw new ApiError(503, 'METRICS_UNAVAILABLE', 'PostgreSQL did not answer the metrics queries; try again');
        }
        return { status: 200, body: text, contentType: registry.contentType };
      },
    }),
  ];
}
