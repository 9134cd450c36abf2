// npx tsx bench/upload-memory.ts [--uploads 6] [--mb 90] [--pool 1] [--queue 2]
// The memory bound of issue 12: N concurrent uploads of M MB against pool + queue places. The
// server runs in a child process (`tingwu-whisper serve` on 127.0.0.1, scripted mini model); its
// peak RSS is the kernel's VmHWM. The uploads are WAV files longer than WHISPER_MAX_AUDIO_S, so
// the admitted ones are buffered whole and then refused from the header (413) without decoding:
// what is measured is what uploads hold, not decoded audio or the model's work.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { ROOT } from "./context.js";

const { values } = parseArgs({
  options: { uploads: { type: "string", default: "6" }, mb: { type: "string", default: "90" }, pool: { type: "string", default: "1" }, queue: { type: "string", default: "2" } },
});
const uploads = Number(values.uploads);
const mb = Number(values.mb);

function status(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024;
}

function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write("WAVEfmt ", 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16_000, 24);
  h.writeUInt32LE(32_000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

const env = {
  ...process.env,
  WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }),
  WHISPER_POOL_SIZE: values.pool,
  WHISPER_QUEUE_SIZE: values.queue,
  WHISPER_MAX_AUDIO_S: "60",
  WHISPER_THREADS: "1",
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "info",
};
const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "lib", "cli.ts"), "serve"], { env, stdio: ["ignore", "pipe", "inherit"] });
const base = await new Promise<string>((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (match) resolve(match[1]!);
  });
  child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
});
child.stdout.resume();
for (;;) {
  if ((await fetch(`${base}/ready`)).status === 200) break;
  await new Promise((r) => setTimeout(r, 100));
}
const idle = status(child.pid!, "VmRSS");
const data = Buffer.alloc(mb * 1024 * 1024 - 44);
const file = new Blob([wavHeader(data.length), data]);
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: uploads }, async () => {
    const form = new FormData();
    form.append("file", file, "long.wav");
    try {
      const response = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: form });
      await response.arrayBuffer();
      return response.status;
    } catch (error) {
      return `error: ${(error as Error).message}`;
    }
  }),
);
const peak = status(child.pid!, "VmHWM");
const after = status(child.pid!, "VmRSS");
child.kill("SIGTERM");
const report = {
  uploads,
  upload_mb: mb,
  capacity: Number(values.pool) + Number(values.queue),
  statuses: results,
  seconds: +((performance.now() - started) / 1000).toFixed(1),
  rss_idle_mb: +idle.toFixed(0),
  rss_peak_mb: +peak.toFixed(0),
  rss_after_mb: +after.toFixed(0),
  bound_mb: `idle + capacity x upload = ${idle.toFixed(0)} + ${Number(values.pool) + Number(values.queue)} x ${mb}`,
};
console.log(JSON.stringify(report, null, 2));
