import { setCurrentDetails } from '@temporalio/workflow';
import type { OperationTrigger } from '../domain.js';
import { closingOnFailure, finishOperation, startOperation } from './operation.js';
import { tool } from './shared.js';

export interface ConnectorDiscoverInput {
  connectorId: string;
  trigger: OperationTrigger;
  operationId?: string | null;
}

export interface ConnectorDiscoverResult {
  operationId: string;
  discovered: number;
  created: number;
  mapped: number;
  missing: number;
}

/** On-demand discovery: lists the tool's VEPs and reconciles the connector's Records, as an Operation. */
export async function connectorDiscover(input: ConnectorDiscoverInput): Promise<ConnectorDiscoverResult> {
  const { operationId } = await startOperation({ operationId: input.operationId ?? null, connectorId: input.connectorId, type: 'discover', trigger: input.trigger });
  return closingOnFailure({ operationId, messagePrefix: 'discover failed: ' }, async () => {
    const r = await tool.discoverRecords({ connectorId: input.connectorId });
    const summary = { discovered: r.discovered, created: r.created, mapped: r.mapped, missing: r.missing };
    await finishOperation({ operationId, status: 'succeeded', summary });
    setCurrentDetails(`discovered ${r.discovered}: ${r.created} new, ${r.mapped} auto-mapped, ${r.missing} missing`);
    return { operationId, ...summary };
  });
}
