// SIGTERM on the real command: `tingwu-whisper serve` in a child process (run from the sources
// through tsx), a transcription in flight, then SIGTERM: the server stops accepting, the
// in-flight request completes, and the process exits 0.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { scriptedModelPath } from "../fixtures/models.js";
import { form, metricValue, postForm, SCRIPT_SENTENCES, waitFor, wavFile } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface ServeProcess {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let running: ServeProcess | undefined;
afterEach(() => {
  if (running && running.child.exitCode === null) running.child.kill("SIGKILL");
  running = undefined;
});

async function serve(env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "lib/cli.ts", "serve"], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", WHISPER_THREADS: "2", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) logs.push(JSON.parse(line));
    }
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  void exited.then(({ code }) => {
    if (code !== 0 && stderr) console.error(stderr);
  });
  running = { child, logs, exited };
  return running;
}

describe("SIGTERM", () => {
  it("stops accepting, drains the in-flight transcription, then exits 0", async () => {
    const { child, logs, exited } = await serve({ WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }) });
    await waitFor(() => logs.some((l) => l.msg === "model ready"), 60_000, "the model to load");
    const listening = logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("Server listening at"));
    const base = String(listening?.msg).replace("Server listening at ", "");
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const inFlight = postForm(`${base}/api/v1/transcribe`, form({ file: wavFile(40) }));
    await waitFor(async () => metricValue(await (await fetch(`${base}/metrics/prometheus`)).text(), "tingwu_whisper_inference_active") === 1, 30_000, "the inference to start");
    child.kill("SIGTERM");

    // New work is refused: the listener is closed (connection refused), or a request that slips in on
    // a kept-alive connection gets 503.
    await waitFor(
      async () => {
        try {
          const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2_000) });
          return res.status === 503;
        } catch {
          return true;
        }
      },
      5_000,
      "the server to stop accepting",
    );

    const res = await inFlight;
    expect(res.status).toBe(200);
    const window2 = SCRIPT_SENTENCES.map((s) => ({ ...s, start: s.start + 30_000, end: s.end + 30_000 }));
    expect(((await res.json()) as { sentences: unknown }).sentences).toEqual([...SCRIPT_SENTENCES, ...window2].map((s) => ({ ...s, speaker: null, speaker_id: null })));

    // Kept-alive connections must not hold the exit back until their idle timeout (72 s).
    const answeredAt = performance.now();
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - answeredAt).toBeLessThan(10_000);
    const messages = logs.map((l) => l.msg);
    expect(messages).toContain("signal received");
    expect(messages).toContain("shutting down: refusing new requests, draining in-flight ones");
    expect(messages.indexOf("shutdown complete")).toBeGreaterThan(messages.indexOf("signal received"));
    expect(logs.find((l) => l.msg === "shutting down: refusing new requests, draining in-flight ones")).toMatchObject({ running: 1, waiting: 0 });
  });

  it("exits 0 at once when idle, and a bad setting exits 2 with the variable named", async () => {
    const { child, logs, exited } = await serve({ WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }) });
    await waitFor(() => logs.some((l) => l.msg === "model ready"), 60_000, "the model to load");
    child.kill("SIGINT");
    expect(await exited).toEqual({ code: 0, signal: null });

    const bad = spawn(process.execPath, ["--import", "tsx", "lib/cli.ts", "serve"], { cwd: ROOT, env: { ...process.env, PORT: "http" }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    bad.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise((resolve) => bad.on("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('PORT: expected an integer between 0 and 65535 but received "http"');
  });
});
