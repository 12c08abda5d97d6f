/** `npm run temporal:install` — makes sure the Temporal CLI is there (builds it with Go once) and prints where. */
import { execFileSync } from 'node:child_process';
import { ensureTemporalCli } from '../src/devstack/temporal-cli.js';

const cliPath = await ensureTemporalCli({ log: (message) => console.log(message) });
const version = execFileSync(cliPath, ['--version'], { encoding: 'utf8' }).trim();
console.log(`${cliPath}: ${version}`);
