import { syncWindow } from '../../src/activities/index.js';
import { connectorFor } from '../../src/connectors/index.js';

describe('syncWindow', () => {
  it("is the worker's capacity for a tool that documents no rate limit", () => {
    expect(syncWindow(10, connectorFor('dependency_track'))).toBe(10);
    expect(syncWindow(3, {})).toBe(3);
  });

  it("caps the window at the fetches in flight the tool's rate limit sustains", () => {
    // GitHub: 900 requests a minute = 15 a second; at half a second a request, 7 in flight.
    expect(syncWindow(20, connectorFor('github'))).toBe(7);
    // Snyk: 1,620 a minute = 27 a second: 13 in flight, more than a small worker runs.
    expect(syncWindow(20, connectorFor('snyk'))).toBe(13);
    expect(syncWindow(4, connectorFor('snyk'))).toBe(4);
  });

  it('never goes below one record at a time', () => {
    expect(syncWindow(10, { requestsPerMinute: 30 })).toBe(1);
    expect(syncWindow(0, {})).toBe(1);
  });
});
