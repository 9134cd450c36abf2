import { defineConfig } from "vitest/config";

// npm run image:smoke: the image `npm run image:build` wrote, run with crun (test/image). Not part of
// `npm test`: it needs root and the image archive.
export default defineConfig({
  test: {
    include: ["test/image/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: "forks",
    reporters: ["verbose"],
  },
});
