export { declarativeConnector } from './connector.js';
export type { Condition, DeclarativeDefinition, FieldSource, FindingsStream, Listing, RecordsStream, RequestTemplate, Requester, TriageRule } from './definition.js';
export { cweNumbers, findingFrom, holds } from './mapping.js';
export { paginate, type PagePosition, type Paginator } from './paginators.js';
export { interpolate, itemsAt, read, valueAt, type TemplateScope } from './select.js';
