import { defineConfig } from "vitest/config";

// npm run test:accuracy: real Whisper weights on real and synthesised speech (test/accuracy).
// Skips with a message when no real model is present (scripts/fetch-real-model.sh fetches one).
export default defineConfig({
  test: {
    include: ["test/accuracy/**/*.test.ts"],
    globalSetup: ["test/accuracy/helpers/global-setup.ts"],
    // Whole-model transcriptions on 2 shared cores: generous limits, one file at a time.
    testTimeout: 600_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    pool: "forks",
    reporters: ["verbose"],
  },
});
