// The HTTP part of the benchmark: the same audio through `tingwu-whisper serve` on 127.0.0.1
// (POST /api/v1/transcribe), against the direct addon call, run alternately with it in one loop.
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

export interface HttpCaseResult {
  wallsMs: number[];
  medianMs: number;
  /** The direct call's wall time in the same rounds, and HTTP minus direct per round. */
  directMs: number[];
  overheadMs: number[];
}

/** `direct` runs the same transcription without HTTP and returns its wall time in ms. */
export async function runHttpCase(
  root: string,
  modelFile: string,
  wav: string,
  threads: number,
  warmup: number,
  runs: number,
  direct: () => Promise<number>,
): Promise<HttpCaseResult> {
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
    const viaHttp = async (): Promise<number> => {
      const form = new FormData();
      form.append("file", new Blob([bytes], { type: "audio/wav" }), "audio.wav");
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: form });
      await res.json();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return performance.now() - t0;
    };
    const walls: number[] = [];
    const directMs: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      // A B, then B A: neither side always goes first.
      let h: number;
      let d: number;
      if (i % 2 === 0) {
        h = await viaHttp();
        d = await direct();
      } else {
        d = await direct();
        h = await viaHttp();
      }
      if (i < warmup) continue;
      walls.push(h);
      directMs.push(d);
    }
    return { wallsMs: walls, medianMs: median(walls), directMs, overheadMs: walls.map((w, k) => w - directMs[k]!) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}
