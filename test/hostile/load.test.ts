// Self-healing model load (issue 12): a failed load is retried with backoff, /ready says why and
// when the next attempt is, and neither /ready nor /api/v1/backend shows the server's directories.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSettings } from "../../lib/config.js";
import { loadRetryDelayMs } from "../../lib/backends/model-manager.js";
import { startServer } from "../../lib/server/server.js";
import type { RunningServer } from "../../lib/server/server.js";
import { scriptedModelPath } from "../fixtures/models.js";
import { waitFor } from "../server/helpers.js";

let running: RunningServer | undefined;
let dir: string | undefined;
afterAll(async () => {
  await running?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("model load retries", () => {
  it("backoff doubles up to 300 s", () => {
    expect([1, 2, 3, 10].map((n) => loadRetryDelayMs(n, 10_000))).toEqual([10_000, 20_000, 40_000, 300_000]);
  });

  it("a missing model file: /ready is 503 with the reason and the next attempt, then 200 once the file appears", async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-secret-dir-"));
    const file = path.join(dir, "ggml-later.bin");
    const settings = loadSettings({ WHISPER_MODEL: file, WHISPER_LOAD_RETRIES: "20", WHISPER_LOAD_RETRY_S: "0.5", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", WHISPER_THREADS: "2" });
    running = await startServer(settings, { handleSignals: false });
    const base = running.url;
    let body: Record<string, unknown> = {};
    await waitFor(async () => {
      const response = await fetch(`${base}/ready`);
      body = (await response.json()) as Record<string, unknown>;
      return response.status === 503 && body.status === "failed" && typeof body.next_attempt_at === "string";
    }, 30_000, "a failed load with a scheduled retry");
    expect(body).toMatchObject({ status: "failed", model: "ggml-later.bin", max_attempts: 21 });
    expect(String(body.error)).toContain("ggml-later.bin");
    expect(JSON.stringify(body)).not.toContain(dir);
    expect(Date.parse(String(body.next_attempt_at))).toBeGreaterThan(Date.now() - 1000);
    const backend = (await (await fetch(`${base}/api/v1/backend`)).json()) as { info: { model: string } };
    expect(backend.info.model).toBe("ggml-later.bin");
    const refused = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: new FormData() });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/^The model failed to load: .*next attempt at /);

    await fs.copyFile(await scriptedModelPath({ dims: "mini" }), file);
    await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, 30_000, "the retried load");
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: "ready", model: "ggml-later.bin" });
  });
});
