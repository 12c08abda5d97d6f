import type { ToolName } from '../connectors/index.js';
import { startToolServer, type ToolRequest, type ToolResponse, type ToolServerState } from './tool-server.js';
import { DEFAULT_DT_API_KEY, handleDependencyTrack, newDependencyTrackState, seedDemoData } from './tools/dependency-track.js';
import { DEFAULT_GITHUB_TOKEN, handleGitHub, newGitHubState, seedGitHubDemo } from './tools/github.js';
import { DEFAULT_SONARQUBE_TOKEN, handleSonarqube, newSonarqubeState, seedSonarqubeDemo } from './tools/sonarqube.js';

/** One demo tool, running and seeded, with what a connector to it needs. */
export interface DemoTool {
  tool: ToolName;
  /** How the demo names it. */
  name: string;
  url: string;
  secret: string;
  settings: Record<string, unknown>;
  /** What is seeded: the records a discovery lists, and the findings a sync imports from them. */
  seeded: { records: number; findings: number };
  close(): Promise<void>;
}

interface DemoToolKind<State extends ToolServerState> {
  tool: ToolName;
  name: string;
  secret: string;
  settings: Record<string, unknown>;
  state: () => State;
  handle: (request: ToolRequest, state: State) => ToolResponse;
  seed: (state: State) => { records: number; findings: number };
}

type StartDemoTool = (host: string, port: number) => Promise<DemoTool>;
const kind = <State extends ToolServerState>(k: DemoToolKind<State>): StartDemoTool => (host, port) => startDemoTool(k, host, port);

/** The demo tools of `npm run dev`, in the order they are given ports. */
const DEMO_TOOLS: readonly StartDemoTool[] = [
  kind({
    tool: 'dependency_track',
    name: 'Dependency-Track',
    secret: DEFAULT_DT_API_KEY,
    settings: {},
    state: () => newDependencyTrackState(),
    handle: handleDependencyTrack,
    seed: (state) => {
      const { projects, findings } = seedDemoData(state);
      return { records: projects, findings };
    },
  }),
  kind({ tool: 'github', name: 'GitHub', secret: DEFAULT_GITHUB_TOKEN, settings: { owner: 'acme-corp' }, state: newGitHubState, handle: handleGitHub, seed: (state) => seedGitHubDemo(state) }),
  kind({ tool: 'sonarqube', name: 'SonarQube', secret: DEFAULT_SONARQUBE_TOKEN, settings: {}, state: newSonarqubeState, handle: handleSonarqube, seed: seedSonarqubeDemo }),
];

async function startDemoTool<State extends ToolServerState>(k: DemoToolKind<State>, host: string, port: number): Promise<DemoTool> {
  const state = k.state();
  const seeded = k.seed(state);
  // A demo runs for hours: keep no request log.
  const server = await startToolServer(state, (request, s) => {
    s.requests.length = 0;
    return k.handle(request, s);
  }, { host, port });
  return { tool: k.tool, name: k.name, url: server.url, secret: k.secret, settings: k.settings, seeded, close: server.close };
}

/**
 * Starts local stand-ins of Dependency-Track, GitHub and SonarQube on `host`, seeded with realistic data
 * (the same on every run, so a restarted demo finds its records again). With `basePort` the tools listen on
 * it and the ports after it; otherwise on free ports.
 */
export async function startDemoTools(options: { host?: string; basePort?: number } = {}): Promise<DemoTool[]> {
  const host = options.host ?? '127.0.0.1';
  const started: DemoTool[] = [];
  try {
    for (const [index, start] of DEMO_TOOLS.entries()) started.push(await start(host, options.basePort === undefined ? 0 : options.basePort + index));
  } catch (error) {
    await Promise.all(started.map((tool) => tool.close()));
    throw error;
  }
  return started;
}
