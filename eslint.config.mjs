// Lint: typescript-eslint's recommended rules. Layer boundaries are checked separately by
// dependency-cruiser (.dependency-cruiser.cjs, `npm run check:layers`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', '.next/', 'out/', 'dist/', 'public/', 'test-results/', 'next-env.d.ts', '**/*.d.ts', 'lib/math/wasm/**/*.as.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
