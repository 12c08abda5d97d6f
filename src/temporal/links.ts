/** The Temporal UI page of one run. */
export function temporalRunUrl(uiUrl: string, namespace: string, workflowId: string, runId: string | null): string {
  const base = `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
