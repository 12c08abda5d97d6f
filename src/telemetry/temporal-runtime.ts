import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<LogLevel, string>;

/**
 * The Temporal SDK's logger interface over pino, so the SDK's own lines, the core's forwarded ones and the
 * workflow logger sink (which skips replays) all come out in the service's one JSON format.
 */
export class PinoTemporalLogger implements TemporalLogger {
  /** With `quiet`, info and below go to debug: for chatty output such as webpack's build report. */
  constructor(
    private readonly logger: Logger,
    private readonly options: { quiet?: boolean } = {},
  ) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { error, ...rest } = meta ?? {};
    const shown = this.options.quiet && level !== 'WARN' && level !== 'ERROR' ? 'DEBUG' : level;
    // pino serialises an Error only under `err`.
    this.logger[PINO_LEVEL[shown]]({ ...rest, ...(error !== undefined ? { err: error } : {}) }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

export interface WorkerRuntimeOptions {
  logger: Logger;
  /** host:port of the SDK's Prometheus exporter, or null for none. */
  metricsAddress: string | null;
}

/**
 * Installs the Temporal runtime of this process: SDK and core logs into pino, and the SDK's Prometheus
 * exporter when an address is given. The runtime is a process-wide singleton that can be installed only
 * before it is first used, so a process running several workers (the tests) installs it for the first and
 * the later ones share it; answers whether this call installed it. The SDK drops the runtime once its last
 * worker and native connection are gone, and the next worker installs a fresh one.
 */
export function installWorkerRuntime(options: WorkerRuntimeOptions): boolean {
  if (Runtime._instance !== undefined) return false;
  try {
    install(options);
  } catch (err) {
    throw new Error(
      `cannot export the Temporal SDK's metrics on ${options.metricsAddress} (${err instanceof Error ? err.message : String(err)}); set VULNSYNC_WORKER_METRICS_ADDRESS`,
    );
  }
  return true;
}

function install(options: WorkerRuntimeOptions): void {
  Runtime.install({
    logger: new PinoTemporalLogger(options.logger.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }), forward: {} },
      ...(options.metricsAddress ? { metrics: { prometheus: { bindAddress: options.metricsAddress } } } : {}),
    },
  });
}
