import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores on CI: files run in forked workers so a crashing EWS library cannot take the runner down.
    pool: 'forks',
  },
});
