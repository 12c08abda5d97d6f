import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/**
 * The search attributes runs carry so operators can find them in the Temporal UI. All Keyword; the dev
 * stack registers them (temporal-dev.yml). Values are ids and names only, never secrets.
 */
export const ConnectorIdKey = defineSearchAttributeKey('ConnectorId', SearchAttributeType.KEYWORD);
export const RecordIdKey = defineSearchAttributeKey('RecordId', SearchAttributeType.KEYWORD);
export const ProductIdKey = defineSearchAttributeKey('ProductId', SearchAttributeType.KEYWORD);
export const ToolKey = defineSearchAttributeKey('Tool', SearchAttributeType.KEYWORD);
export const TriggerKey = defineSearchAttributeKey('Trigger', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_NAMES = ['ConnectorId', 'RecordId', 'ProductId', 'Tool', 'Trigger'] as const;

/** The attributes every run of a connector carries (a record's run adds RecordId and ProductId). */
export function connectorRunAttributes(connector: { id: string; tool: string }, trigger: 'manual' | 'scheduled'): SearchAttributePair[] {
  return [
    { key: ConnectorIdKey, value: connector.id },
    { key: ToolKey, value: connector.tool },
    { key: TriggerKey, value: trigger },
  ];
}
