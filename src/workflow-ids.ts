/** Deterministic workflow ids (shared by the API, the schedules and the workflows). */
export const recordSyncWorkflowId = (connectorId: string, recordId: string) => `sync/${connectorId}/${recordId}`;
/** Prefix of a scheduled connector sync's id; the Schedule appends the scheduled time. */
export const scheduledConnectorSyncWorkflowId = (connectorId: string) => `connector-sync/${connectorId}`;
export const manualConnectorSyncWorkflowId = (connectorId: string, operationId: string) => `connector-sync/${connectorId}/manual-${operationId}`;
export const connectorDiscoverWorkflowId = (connectorId: string, operationId: string) => `discover/${connectorId}/${operationId}`;
export const connectorScheduleId = (connectorId: string) => `connector-${connectorId}-sync`;
