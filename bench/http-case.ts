// The HTTP part of the benchmark: the same audio through `tingwu-whisper serve` on 127.0.0.1
// (POST /api/v1/transcribe), against the direct addon call measured in the same run.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { median } from "./stats.js";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function runHttpCase(root: string, modelFile: string, wav: string, threads: number, warmup: number, runs: number): Promise<{ wallsMs: number[]; medianMs: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "lib", "cli.ts"), "serve"], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", WHISPER_MODEL: modelFile, WHISPER_THREADS: String(threads), WHISPER_LANGUAGE: "en", DEVICE: "cpu", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 600; i++) {
      const ready = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const bytes = await fs.readFile(wav);
    const walls: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const form = new FormData();
      form.append("file", new Blob([bytes], { type: "audio/wav" }), "audio.wav");
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: form });
      await res.json();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (i >= warmup) walls.push(performance.now() - t0);
    }
    return { wallsMs: walls, medianMs: median(walls) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}
