import { handleSonarqube, newSonarqubeState, type SonarqubeState } from '../../src/devstack/tools/sonarqube.js';
import { startFakeServer, type FakeServer, type FakeState } from './fake-server.js';

export * from '../../src/devstack/tools/sonarqube.js';

/** The stand-in SonarQube of src/devstack, with the faults tests inject. */
export type SonarqubeFakeState = SonarqubeState & FakeState;
export type SonarqubeFake = FakeServer<SonarqubeFakeState>;

export async function startSonarqubeFake(): Promise<SonarqubeFake> {
  return startFakeServer({ ...newSonarqubeState(), faults: [] }, handleSonarqube);
}
