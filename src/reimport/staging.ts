import type { EntityManager } from '@mikro-orm/postgresql';
import type { HashField, NormalizedFinding } from '../connectors/types.js';
import { computeHashCode } from './hash.js';

/** One staged row, keyed by column name so PostgreSQL can read a whole page with json_populate_recordset. */
function stagedRow(fetchId: string, page: number, f: NormalizedFinding, hashFields: readonly HashField[]) {
  return {
    fetch_id: fetchId,
    page,
    title: f.title,
    severity: f.severity,
    description: f.description ?? null,
    mitigation: f.mitigation ?? null,
    references: f.references ?? null,
    cwes: f.cwes ?? null,
    vulnerability_ids: f.vulnerabilityIds ?? null,
    cvss_vector: f.cvssVector ?? null,
    cvss_score: f.cvssScore ?? null,
    component_name: f.componentName ?? null,
    component_version: f.componentVersion ?? null,
    file_path: f.filePath ?? null,
    line: f.line ?? null,
    endpoint: f.endpoint ?? null,
    unique_id_from_tool: f.uniqueIdFromTool ?? null,
    vuln_id_from_tool: f.vulnIdFromTool ?? null,
    hash_code: computeHashCode(f, hashFields),
    false_p: f.falseP ?? false,
    risk_accepted: f.riskAccepted ?? false,
    out_of_scope: f.outOfScope ?? false,
    raw: f.raw ?? null,
  };
}

const STAGED_COLUMNS =
  'fetch_id, page, title, severity, description, mitigation, "references", cwes, vulnerability_ids, cvss_vector, cvss_score, ' +
  'component_name, component_version, file_path, line, endpoint, unique_id_from_tool, vuln_id_from_tool, hash_code, ' +
  'false_p, risk_accepted, out_of_scope, raw';

/**
 * Stores one fetched page in `staged_finding` and advances the fetch's cursor in the same transaction,
 * so a resumed fetch never stages a page twice: a retry replaces the page (delete, then insert).
 */
export async function stageFindingsPage(
  em: EntityManager,
  input: { fetchId: string; page: number; findings: NormalizedFinding[]; hashFields: readonly HashField[]; cursor: unknown },
): Promise<void> {
  const rows = input.findings.map((f) => stagedRow(input.fetchId, input.page, f, input.hashFields));
  await em.transactional(async (tx) => {
    await tx.execute('delete from staged_finding where fetch_id = ? and page = ?', [input.fetchId, input.page]);
    if (rows.length > 0) {
      await tx.execute(
        `insert into staged_finding (${STAGED_COLUMNS})
         select ${STAGED_COLUMNS} from json_populate_recordset(null::staged_finding, ?::json)`,
        [JSON.stringify(rows)],
      );
    }
    await tx.execute(
      `update sync_fetch set cursor = ?::jsonb, pages = ?, item_count = (select count(*) from staged_finding where fetch_id = ?)
       where id = ?`,
      [JSON.stringify(input.cursor ?? null), input.page + 1, input.fetchId, input.fetchId],
    );
  });
}
