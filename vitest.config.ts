import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Deadlines, not measures: a test waits on events and ends as soon as they come, and beside
    // another file (below) a test can take several times as long on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // At least two files at a time, where vitest's default on a 2-core machine is one: most of
    // the suite waits on real processes, servers and short real durations, not on the CPU
    // (docs/architecture.md, "Decisions").
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
