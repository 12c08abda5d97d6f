import type pg from 'pg';
import type { ErrorType } from '../errors.js';

/**
 * Requests to tools' APIs counted in memory and added to PostgreSQL's `tool_api_call` now and then, so the
 * API's /metrics can report every worker's, across restarts. A flush that fails keeps its counts for the
 * next; only what a crashed worker counted since its last flush is lost.
 */
export class ToolCallTally {
  private pending = new Map<string, { tool: string; errorType: string; calls: number }>();

  /** One request to `tool`'s API; `errorType` null when it was answered as hoped (stored as ''). */
  add(tool: string, errorType: ErrorType | null): void {
    this.count(tool, errorType ?? '', 1);
  }

  private count(tool: string, errorType: string, calls: number): void {
    const key = `${tool}\n${errorType}`;
    const entry = this.pending.get(key);
    if (entry) entry.calls += calls;
    else this.pending.set(key, { tool, errorType, calls });
  }

  async flush(pool: pg.Pool): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await pool.query(
        `insert into tool_api_call (tool, error_type, calls)
         select * from unnest($1::text[], $2::text[], $3::bigint[])
         on conflict (tool, error_type) do update set calls = tool_api_call.calls + excluded.calls`,
        [batch.map((e) => e.tool), batch.map((e) => e.errorType), batch.map((e) => e.calls)],
      );
    } catch (err) {
      for (const e of batch) this.count(e.tool, e.errorType, e.calls);
      throw err;
    }
  }
}
