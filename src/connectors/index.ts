import { ConnectorError } from '../errors.js';
import type { ToolConnector } from './types.js';
import { bugcrowd } from './bugcrowd/index.js';
import { awsSecurityHub } from './aws-security-hub/index.js';
import { blackDuck } from './blackduck/index.js';
import { cobalt } from './cobalt/index.js';
import { dependencyTrack } from './dependency-track/index.js';
import { edgescan } from './edgescan/index.js';
import { github } from './github/index.js';
import { harbor } from './harbor/index.js';
import { gitlab } from './gitlab/index.js';
import { semgrep } from './semgrep/index.js';
import { snyk } from './snyk/index.js';
import { sonarqube } from './sonarqube/index.js';

/** Every connector vulnsync ships, by tool id: the one list of tools. */
export const connectors = {
  dependency_track: dependencyTrack,
  github,
  semgrep,
  edgescan,
  cobalt,
  snyk,
  bugcrowd,
  aws_security_hub: awsSecurityHub,
  sonarqube,
  harbor,
  blackduck: blackDuck,
  gitlab,
} as const satisfies Record<string, ToolConnector>;

/** The id of a tool vulnsync ships (`dependency_track`, `github`, …). */
export type ToolName = keyof typeof connectors;

/** The connectors a server accepts, by tool id: the shipped ones, or a test's own. */
export type ToolRegistry = Readonly<Record<string, ToolConnector>>;

for (const [key, connector] of Object.entries(connectors)) {
  if (connector.tool !== key) throw new Error(`the connector of "${connector.tool}" is listed as "${key}"`);
}

export function isToolName(tool: string): tool is ToolName {
  return Object.hasOwn(connectors, tool);
}

/** The shipped connector of a tool; CONFIG_INVALID for a tool this server has none of. */
export function connectorFor(tool: string, registry: ToolRegistry = connectors): ToolConnector {
  const connector = Object.hasOwn(registry, tool) ? registry[tool] : undefined;
  if (!connector) throw new ConnectorError('CONFIG_INVALID', `this server has no connector for the tool "${tool}"`);
  return connector;
}

/** A tool as a person knows it (`Dependency-Track`), for run summaries; the id for a tool this server lacks. */
export function toolDisplayName(tool: string): string {
  return isToolName(tool) ? connectors[tool].displayName : tool;
}
