import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Reads back every app log the run wrote and fails it on any tenant name, content or secret.
    globalSetup: ['test/global-log-scan.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Native SQLite and Argon2 are CPU bound; two cores, two workers.
    maxWorkers: 2,
  },
});
