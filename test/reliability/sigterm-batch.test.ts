// SIGTERM while `/api/v1/transcribe/batch` is working through 3 files on the real command
// (`tingwu-whisper serve` in a child process): the batch completes with every result, then the
// process exits 0.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { scriptedModelPath } from "../fixtures/models.js";
import { form, metricValue, postForm, waitFor, wavFile } from "../server/helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

describe("SIGTERM during a batch", () => {
  it("finishes all 3 files of the batch, answers 200, then exits 0", async () => {
    child = spawn(process.execPath, ["--import", "tsx", "lib/cli.ts", "serve"], {
      cwd: ROOT,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", WHISPER_THREADS: "2", WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const logs: Record<string, unknown>[] = [];
    let buffer = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) if (line.trim()) logs.push(JSON.parse(line));
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.on("exit", (code, signal) => resolve({ code, signal })));

    await waitFor(() => logs.some((l) => l.msg === "model ready"), 60_000, "the model to load");
    const base = String(logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("Server listening at"))?.msg).replace("Server listening at ", "");
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // One file at a time, so SIGTERM lands with the first file running and two still to do.
    const files = ["one.wav", "two.wav", "three.wav"].map((name) => ({ data: wavFile(30), name }));
    const batch = postForm(`${base}/api/v1/transcribe/batch`, form({ files: files as never, max_concurrent: "1" }));
    await waitFor(async () => metricValue(await (await fetch(`${base}/metrics/prometheus`)).text(), "tingwu_whisper_inference_active") === 1, 30_000, "the first file to start");
    child.kill("SIGTERM");

    const res = await batch;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { code: number; total: number; success_count: number; results: { filename: string; success: boolean; result?: { sentences: unknown[] } }[] };
    expect(body).toMatchObject({ code: 0, total: 3, success_count: 3, failed_count: 0 });
    expect(body.results.map((r) => [r.filename, r.success])).toEqual([
      ["one.wav", true],
      ["two.wav", true],
      ["three.wav", true],
    ]);
    for (const r of body.results) expect(r.result?.sentences.length).toBeGreaterThan(0);

    const exit = await exited;
    if (exit.code !== 0) console.error(stderr);
    expect(exit).toEqual({ code: 0, signal: null });
    const messages = logs.map((l) => l.msg);
    expect(messages).toContain("signal received");
    expect(messages.indexOf("shutdown complete")).toBeGreaterThan(messages.indexOf("signal received"));
  });
});
