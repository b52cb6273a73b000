// eslint.config -- lint rules, and the layering of harness/ enforced as an
// import boundary (docs/architecture.md, "Layers").
//
// Each folder may import the folders before it in LAYERS, never those after
// it: the data flows from the tracer to the CLI, and so do the imports.
// targets/ sits above every harness folder but the CLI: only harness/cli
// may import it.

import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/** harness/ folders, lowest first (docs/architecture.md, "Layers"). */
const LAYERS = [
  '_internals',
  'elf',
  'tracer',
  'trace',
  'record',
  'image',
  'persistency',
  'check',
  'results',
  'pipeline',
  'fuzz',
  'report',
];

const layerZones = LAYERS.map((layer, i) => ({
  target: `./harness/${layer}`,
  from: [...LAYERS.slice(i + 1).map((above) => `./harness/${above}`), './harness/cli', './targets'],
  message: `harness/${layer} is below these in the data flow (docs/architecture.md, "Layers")`,
}));

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'reports/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [
          ...layerZones,
          {
            target: './targets',
            from: './harness/cli',
            message: 'targets/ is below the CLI (docs/architecture.md, "Layers")',
          },
        ],
      }],
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests build malformed and partial data on purpose (corrupt results,
    // hand-made reports) and poke at it with untyped paths.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
