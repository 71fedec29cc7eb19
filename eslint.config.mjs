// The linter of `npm test` (docs/testing.md): typescript-eslint with type information, for the
// bugs that type-check (an un-awaited promise; a promise where a callback's result is dropped),
// the rules the code already follows, and the import boundaries of the architecture.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { kebabCaseFile } from './eslint-rules/kebab-case-file.mjs';
import { layerImports } from './eslint-rules/layer-imports.mjs';

const PROTOCOL = 'a protocol imports the policy, core and protocols/shared only, never another protocol';

/** Who may import whom (architecture.md, "Dependency rule"); a folder not listed is not bounded. */
const LAYERS = {
  'protocols/imap': { allow: ['protocols/shared', 'policy', 'core'], types: ['config'], why: PROTOCOL },
  'protocols/pop3': { allow: ['protocols/shared', 'policy', 'core'], types: ['config'], why: PROTOCOL },
  'protocols/smtp': { allow: ['protocols/shared', 'policy', 'core'], types: ['config'], why: PROTOCOL },
  'protocols/shared': { allow: ['policy', 'core'], types: ['config'], why: 'shared protocol code imports the policy and core only' },
  portal: { allow: ['policy', 'core'], types: ['config'], why: 'the portal imports the policy and core only' },
  policy: { allow: ['store', 'crypto', 'core', 'config'], why: 'the policy never imports a front end' },
  store: { allow: ['core'], why: 'the store imports core only, never the policy' },
  crypto: { allow: ['core'], why: 'crypto imports core only' },
  config: { allow: ['core'], why: 'config imports core only' },
  core: { allow: [], why: 'core imports nothing of twostep' },
};

/** Libraries that stay behind one folder. */
const PACKAGES = [
  { name: 'better-sqlite3', home: 'src/store', message: 'SQLite is used in src/store only' },
  { name: 'argon2', home: 'src/crypto', message: 'hashing lives in src/crypto only' },
  { name: 'otplib', home: 'src/crypto', message: 'TOTP lives in src/crypto only' },
];

/** Node's globals, for the plain JS files (test helpers, bench, scripts). */
const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal', 'fetch',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'performance',
    'structuredClone'].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tmp/**', 'test-artifacts/**'] },
  js.configs.recommended,
  { languageOptions: { globals: NODE_GLOBALS } },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Fakes implement async interfaces without awaiting anything: not a rule the code follows.
      '@typescript-eslint/require-await': 'off',
      // `catch (err) { return Promise.reject(err) }` passes a fault on unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Rules the code already follows.
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.d.mts', '**/*.d.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    plugins: { twostep: { rules: { 'kebab-case-file': kebabCaseFile, 'layer-imports': layerImports } } },
    rules: {
      // `let x = fallback; try { x = ... }`: a style the code uses, not a bug.
      'no-useless-assignment': 'off',
      'twostep/kebab-case-file': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'twostep/layer-imports': ['error', { srcRoot: `${import.meta.dirname}/src`, layers: LAYERS }],
      // Everything goes through the logger (redaction, structured lines) or the CLI's output.
      'no-console': 'error',
      // One job per file.
      'max-lines': ['error', { max: 300 }],
    },
  },
  {
    // The house rule that every cap and deadline lives in this one table wins over its length.
    files: ['src/core/limits.ts'],
    rules: { 'max-lines': 'off' },
  },
  ...packageBoundaries(),
);

/** no-restricted-imports for each folder of src/: every library of PACKAGES whose home it is not. */
function packageBoundaries() {
  const homes = [...new Set(PACKAGES.map((p) => p.home))];
  const rule = (home) => [
    'error',
    { paths: PACKAGES.filter((p) => p.home !== home).map(({ name, message }) => ({ name, message })) },
  ];
  return [
    { files: ['src/**/*.ts'], ignores: homes.map((h) => `${h}/**`), rules: { 'no-restricted-imports': rule(null) } },
    ...homes.map((home) => ({ files: [`${home}/**/*.ts`], rules: { 'no-restricted-imports': rule(home) } })),
  ];
}
