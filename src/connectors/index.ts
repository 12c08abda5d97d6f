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

/** Every connector vulnsync ships, by tool id. */
export const connectors: Record<string, ToolConnector<any>> = {
  [dependencyTrack.tool]: dependencyTrack,
  [github.tool]: github,
  [semgrep.tool]: semgrep,
  [edgescan.tool]: edgescan,
  [cobalt.tool]: cobalt,
  [snyk.tool]: snyk,
  [bugcrowd.tool]: bugcrowd,
  [awsSecurityHub.tool]: awsSecurityHub,
  [sonarqube.tool]: sonarqube,
  [harbor.tool]: harbor,
  [blackDuck.tool]: blackDuck,
  [gitlab.tool]: gitlab,
};

export function connectorFor(tool: string): ToolConnector<any> {
  const connector = connectors[tool];
  if (!connector) throw new Error(`unknown tool "${tool}"`);
  return connector;
}
