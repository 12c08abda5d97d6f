import { handleGitHub, newGitHubState, type GitHubState } from '../../src/devstack/tools/github.js';
import { startFakeServer, type FakeServer, type FakeState } from './fake-server.js';

export * from '../../src/devstack/tools/github.js';

/** The stand-in GitHub of src/devstack, with the faults tests inject. */
export type GitHubFakeState = GitHubState & FakeState;
export type GitHubFake = FakeServer<GitHubFakeState>;

export async function startGitHubFake(options: { port?: number; host?: string } = {}): Promise<GitHubFake> {
  return startFakeServer({ ...newGitHubState(), faults: [] }, handleGitHub, options);
}
