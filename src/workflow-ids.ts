/** Deterministic workflow ids (shared by the API, the schedules and the workflows). */
export const recordSyncWorkflowId = (connectorId: string, recordId: string) => `sync/${connectorId}/${recordId}`;
export const connectorSyncWorkflowId = (connectorId: string) => `connector-sync/${connectorId}`;
export const connectorDiscoverWorkflowId = (connectorId: string) => `discover/${connectorId}`;
export const connectorScheduleId = (connectorId: string) => `connector-${connectorId}-sync`;
