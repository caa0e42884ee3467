import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const TEST_FILES = ['**/*.test.ts', '**/*.test.mjs', '**/test/**'];

/**
 * Who may import whom, by project tag (project.json). Apps are never imported (the rule refuses
 * imports of application projects outright); test support (`type:test`: libs/testing,
 * libs/local-stack) only from tests and tools, never from code that ships.
 */
const PRODUCTION_DEPENDENCIES = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:test'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:test'] },
  { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib', 'type:test', 'type:tooling'] },
];
const TEST_DEPENDENCIES = PRODUCTION_DEPENDENCIES.map((constraint) =>
  constraint.sourceTag === 'type:app' || constraint.sourceTag === 'type:lib'
    ? { ...constraint, onlyDependOnLibsWithTags: ['type:lib', 'type:test'] }
    : constraint,
);

const moduleBoundaries = (depConstraints, allow = []) => [
  'error',
  {
    depConstraints,
    allow,
    // Nothing is split into lazily loaded bundles here: a test's `await import('@oms/...')` is
    // about load order, and must not forbid static imports of that lib elsewhere.
    checkDynamicDependenciesExceptions: ['@oms/*'],
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'libs/contracts/src/generated/**', '.stack/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...nx.configs['flat/base'],
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      '@nx/enforce-module-boundaries': moduleBoundaries(PRODUCTION_DEPENDENCIES),
    },
  },
  {
    files: TEST_FILES,
    rules: { '@nx/enforce-module-boundaries': moduleBoundaries(TEST_DEPENDENCIES) },
  },
  {
    // The stack's command line runs under plain node, which cannot resolve the @oms/* aliases.
    files: ['tools/stack/stack.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries(PRODUCTION_DEPENDENCIES, [
        '^\\.\\./\\.\\./libs/local-stack/src/index\\.mjs$',
      ]),
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'libs/**/*.mjs'],
    ignores: [...TEST_FILES, 'libs/contracts/src/generated/**'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        Buffer: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
  },
);
