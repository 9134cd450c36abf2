// npm run test:asan (scripts/asan.sh): the native tests against the AddressSanitizer build.
// Worker threads, not forks: vitest ends fork workers by killing them, which skips LeakSanitizer's
// exit-time check, and LeakSanitizer's on-demand check crashes in a busy V8 process ("Tracer
// caught signal 11"). With threads, every test file runs in this one process, which exits
// normally after the workers (and their models) are torn down: one leak check sees everything.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      pool: "threads",
      poolOptions: { threads: { singleThread: true } },
      testTimeout: 600_000,
    },
  }),
);
