import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'runner/**/*.test.ts', 'strategies/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // DuckDB files and CLI child processes: keep the 2-core CI machine from thrashing
    maxWorkers: 2,
  },
});
