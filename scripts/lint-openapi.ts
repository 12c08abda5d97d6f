/**
 * `npm run lint:openapi [file]` — writes the OpenAPI document the API serves to a file (default
 * openapi.json) and lints it with Redocly's and Spectral's recommended rules; any problem, warnings
 * included, fails.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { apiDocument, apiRoutes, type ApiDeps } from '../src/api/app.js';
import { createLogger } from '../src/logger.js';
import { describeProblem, lintOpenApi } from './openapi-lint.js';

const file = resolve(process.argv[2] ?? 'openapi.json');
// Building the route table reads only the Temporal namespace and a logger; no handler runs here, and a lazy
// connection never dials.
const client = new Client({ connection: Connection.lazy() });
const deps = { client, logger: createLogger('silent', 'vulnsync-openapi'), taskQueue: 'vulnsync', temporalUiUrl: 'http://localhost:8233' } as unknown as ApiDeps;
await writeFile(file, `${JSON.stringify(apiDocument(apiRoutes(deps)), null, 2)}\n`);
await client.connection.close();
const problems = await lintOpenApi(file);
for (const problem of problems) console.log(describeProblem(problem));
console.log(`${file}: ${problems.length} problem(s) from Redocly and Spectral`);
process.exitCode = problems.length > 0 ? 1 : 0;
