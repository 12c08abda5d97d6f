export { declarativeConnector } from './connector.js';
export { findingsStream } from './definition.js';
export type { Condition, DeclarativeDefinition, FieldSource, FindingsStream, Listing, RecordsStream, RequestTemplate, Requester, TriageRule } from './definition.js';
export { cweNumbers, findingFrom, holds } from './mapping.js';
export { paginate, type CustomPages, type PagePosition, type Paginator } from './paginators.js';
export { interpolate, itemsAt, read, valueAt, type TemplateScope } from './select.js';
