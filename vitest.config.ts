import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Native SQLite and Argon2 are CPU bound; two cores, two workers.
    maxWorkers: 2,
  },
});
