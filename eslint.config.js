import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['assert', 'buffer', 'child_process', 'crypto', 'dns', 'events', 'fs', 'http', 'https', 'net', 'os', 'path', 'process', 'stream', 'timers', 'tls', 'url', 'util', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.dev/', 'coverage/', 'src/db/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The operator page runs in the browser, as plain ES modules served without a build step.
    files: ['src/ui/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no ORM, no HTTP clients,
    // and only *types* from activities.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((m) => [m, `node:${m}`]).concat(['pg', 'express', 'pino', 'undici']).map((name) => ({ name, message: 'not allowed in workflow code (Temporal sandbox)' })),
          patterns: [
            { group: ['@mikro-orm/*'], message: 'workflows never touch the database' },
            { group: ['**/activities/*', '**/activities'], allowTypeImports: true, message: 'import only types from activities' },
            { group: ['**/connectors/*', '**/db/*', '**/api/*'], allowTypeImports: true, message: 'workflows only orchestrate' },
          ],
        },
      ],
    },
  },
);
