import { handleDependencyTrack, newDependencyTrackState, type DependencyTrackState } from '../../src/devstack/tools/dependency-track.js';
import { startFakeServer, type FakeServer, type FakeState } from './fake-server.js';

export * from '../../src/devstack/tools/dependency-track.js';

/** The stand-in Dependency-Track of src/devstack, with the faults tests inject. */
export type DependencyTrackFakeState = DependencyTrackState & FakeState;
export type DependencyTrackFake = FakeServer<DependencyTrackFakeState>;

export async function startDependencyTrackFake(
  options: { apiKey?: string; port?: number; host?: string } = {},
): Promise<DependencyTrackFake> {
  return startFakeServer({ ...newDependencyTrackState(options), faults: [] }, handleDependencyTrack, { port: options.port, host: options.host });
}
