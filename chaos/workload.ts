import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake, type DtFindingJson, type DtProjectJson } from '../test/fakes/dependency-track.js';
import type { Fault } from '../test/fakes/fake-server.js';
import type { ChaosStack } from './stack.js';

export interface OperationRow {
  id: string;
  status: string;
  workflow_id: string;
  run_id: string | null;
  error: { type: string; message: string; records?: { recordId: string; type: string }[] } | null;
  summary: Record<string, number> | null;
  created_at: Date;
}

/** What the database holds for a connector, set against what its tool reports right now. */
export interface Measurement {
  /** Findings the tool reports (all records). */
  expected: number;
  /** Active findings of the connector's records. */
  actual: number;
  /** Reported by the tool, but no active finding. */
  lost: number;
  /** Active, but the tool does not report it. */
  extra: number;
  /** Active findings beyond the first with the same record and tool id. */
  duplicates: number;
  /** Closed findings the tool still reports. */
  wronglyClosed: number;
}

const FINAL = new Set(['succeeded', 'failed', 'partial']);
let sequence = 0;

/**
 * One Dependency-Track connector of the chaos suite: a fake tool of its own with `projects` × `findings`
 * findings, created through the API with auto-map, so each scenario owns its data.
 */
export class Workload {
  private constructor(
    readonly stack: ChaosStack,
    readonly tool: DependencyTrackFake,
    readonly connectorId: string,
    readonly projects: DtProjectJson[],
  ) {}

  static async create(stack: ChaosStack, label: string, shape: { projects: number; findings: number | number[] }): Promise<Workload> {
    const tool = await startDependencyTrackFake();
    const projects: DtProjectJson[] = [];
    for (let i = 0; i < shape.projects; i++) {
      const project = dtProject({ name: `${label}-${String(i).padStart(4, '0')}`, version: '1.0' });
      const count = Array.isArray(shape.findings) ? (shape.findings[i] ?? 1) : shape.findings;
      tool.state.findings[project.uuid] = Array.from({ length: count }, () => newFinding(project));
      projects.push(project);
    }
    tool.state.projects = projects;
    const res = await stack.call<{ id: string }>('POST', '/api/v1/connectors', { tool: 'dependency_track', label, location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
    if (res.status !== 201) {
      await tool.close();
      throw new Error(`creating connector ${label} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return new Workload(stack, tool, res.body.id, projects);
  }

  findingsPath(project = 0): string {
    return `/api/v1/finding/project/${this.projects[project]!.uuid}`;
  }

  inject(project: number, respond: Fault['respond'], times = 1): void {
    this.tool.inject({ match: this.findingsPath(project), times, respond });
  }

  /** Resolves once the tool has received `count` requests for a project's findings (a fetch is under way). */
  async requested(project: number, count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.tool.state.requests.filter((r) => r.path === this.findingsPath(project)).length < count) {
      if (Date.now() > deadline) throw new Error(`the tool received no request for ${this.projects[project]!.name}'s findings within ${timeoutMs} ms`);
      await delay(20);
    }
  }

  requests(project: number): number {
    return this.tool.state.requests.filter((r) => r.path === this.findingsPath(project)).length;
  }

  /** The tool fixes one finding of a project and reports a new one, so the next sync must close one and create one. */
  churn(project = 0): void {
    const p = this.projects[project]!;
    const list = this.tool.state.findings[p.uuid]!;
    list.shift();
    list.push(newFinding(p));
  }

  async recordId(project: number): Promise<string> {
    const [row] = await this.stack.query<{ id: string }>('select id from tool_record where connector_id = $1 and external_id = $2', [this.connectorId, this.projects[project]!.uuid]);
    if (!row) throw new Error(`no record for ${this.projects[project]!.name}`);
    return row.id;
  }

  /** Starts a manual sync of the whole connector through the API. */
  async startSync(): Promise<{ operationId: string; workflowId: string; runId: string; attached: boolean }> {
    const res = await this.stack.call<{ operationId: string; workflowId: string; runId: string; attached: boolean }>('POST', `/api/v1/connectors/${this.connectorId}/sync`);
    if (res.status !== 202) throw new Error(`POST sync answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async startRecordSync(project: number): Promise<{ operationId: string; workflowId: string; runId: string }> {
    const res = await this.stack.call<{ operationId: string; workflowId: string; runId: string }>('POST', `/api/v1/records/${await this.recordId(project)}/sync`);
    if (res.status !== 202) throw new Error(`POST record sync answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Polls the Operation until its status is final; null if it is not within `limitMs`. */
  async waitForOperation(
    where: { id: string } | { workflowId: string; runId?: string } | { connectorId: string; trigger: string },
    limitMs: number,
  ): Promise<OperationRow | null> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const [op] =
        'id' in where
          ? await this.stack.query<OperationRow>('select * from operation where id = $1', [where.id])
          : 'trigger' in where
            ? await this.stack.query<OperationRow>('select * from operation where connector_id = $1 and trigger = $2 order by created_at desc limit 1', [where.connectorId, where.trigger])
            : await this.stack.query<OperationRow>('select * from operation where workflow_id = $1 and ($2::text is null or run_id = $2) order by created_at desc limit 1', [
                where.workflowId,
                where.runId ?? null,
              ]);
      if (op && FINAL.has(op.status)) return op;
      if (Date.now() > deadline) return null;
      await delay(250);
    }
  }

  /** A full sync that must succeed: the state every scenario starts from. */
  async baseline(limitMs = 120_000): Promise<OperationRow> {
    const started = await this.startSync();
    const op = await this.waitForOperation({ id: started.operationId }, limitMs);
    if (op?.status !== 'succeeded') throw new Error(`the baseline sync of ${this.tool.url} ended ${op ? `${op.status}: ${JSON.stringify(op.error)}` : 'not at all'}`);
    return op;
  }

  async operations(): Promise<OperationRow[]> {
    return this.stack.query<OperationRow>('select * from operation where connector_id = $1 order by created_at', [this.connectorId]);
  }

  /** Imports into a project's record since `since`. */
  async importsSince(project: number, since: Date): Promise<number> {
    const [row] = await this.stack.query<{ n: string }>('select count(*) n from finding_import where record_id = $1 and created_at >= $2', [await this.recordId(project), since]);
    return Number(row?.n ?? 0);
  }

  async measure(): Promise<Measurement> {
    const expected = new Map<string, Set<string>>();
    for (const p of this.tool.state.projects) {
      expected.set(p.uuid, new Set((this.tool.state.findings[p.uuid] ?? []).filter((f) => !f.analysis.isSuppressed).map((f) => f.matrix)));
    }
    const rows = await this.stack.query<{ external_id: string; uid: string; active: boolean; is_mitigated: boolean }>(
      `select r.external_id, f.unique_id_from_tool uid, f.active, f.is_mitigated
       from finding f join tool_record r on r.id = f.record_id where r.connector_id = $1`,
      [this.connectorId],
    );
    const active = new Map<string, number>();
    let actual = 0;
    let extra = 0;
    let wronglyClosed = 0;
    for (const row of rows) {
      const reported = expected.get(row.external_id)?.has(row.uid) ?? false;
      if (row.active) {
        actual++;
        const key = `${row.external_id} ${row.uid}`;
        active.set(key, (active.get(key) ?? 0) + 1);
        if (!reported) extra++;
      } else if (row.is_mitigated && reported) {
        wronglyClosed++;
      }
    }
    let lost = 0;
    let total = 0;
    for (const [project, uids] of expected) {
      total += uids.size;
      for (const uid of uids) if (!active.has(`${project} ${uid}`)) lost++;
    }
    const duplicates = [...active.values()].reduce((n, c) => n + c - 1, 0);
    return { expected: total, actual, lost, extra, duplicates, wronglyClosed };
  }

  async close(): Promise<void> {
    await this.tool.close();
  }
}

function newFinding(project: DtProjectJson): DtFindingJson {
  const n = ++sequence;
  return dtFinding(project, { name: `lib-${n}`, version: `1.${n % 50}.0` }, { vulnId: `CVE-2026-${100000 + n}`, severity: n % 3 === 0 ? 'CRITICAL' : 'HIGH', cvssV3BaseScore: 7.5 });
}
