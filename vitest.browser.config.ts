import { defineConfig } from 'vitest/config';
import * as path from 'node:path';

/**
 * Browser end-to-end tests: a globalSetup serves the built app with `next start` on port 3100,
 * and each test drives the system Chromium through playwright-core (tests/browser/browser.ts).
 */
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['tests/browser/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/browser/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // One Chromium and one server; files share them sequentially.
    fileParallelism: false,
    pool: 'forks',
  },
});
