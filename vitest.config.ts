import { configDefaults, defineConfig } from "vitest/config";

/**
 * Files whose test keeps both cores busy for half a minute (several worker
 * processes writing tens of thousands of events while being SIGKILLed). Vitest
 * starts the slowest files first, so these two always ran side by side, each
 * then took over 60 s on a shared 2-core machine, and both timed out. They run
 * first, one at a time, before the rest of the suite.
 */
const ALONE = ["test/workers/many-workers.test.ts", "test/workers/worker-process.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ["test/support/global-setup.ts"],
    projects: [
      {
        extends: true,
        test: { name: "alone", include: ALONE, fileParallelism: false, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // Each file owns its database and queue, so files run in parallel safely;
        // two workers suit the 2-core machines this runs on.
        test: { name: "parallel", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...ALONE], fileParallelism: true, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
