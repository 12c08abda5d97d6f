/** The workflows the worker registers (bundled into Temporal's deterministic sandbox). */
export { connectorSync } from './connector-sync.js';
export { recordSync } from './record-sync.js';
export { connectorDiscover } from './connector-discover.js';
