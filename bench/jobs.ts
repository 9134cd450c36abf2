// npm run bench:jobs [-- --jobs N] [--rounds N] [--dims tiny|base|mini] [--workers 1,2,4] [--threads N] [--seconds S]
// The job queue: throughput with 1, 2 and 4 worker processes on one BullMQ queue (a real
// redis-server on loopback), a job's overhead against the same transcription as a direct sync
// request (BullMQ and in-process), and the queue latency (submitted -> started on an idle worker).
// Workers split the machine's cores between them (threads = cores / workers), so on a small
// machine the throughput figure shows the cost of splitting, not the gain of more GPUs.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { encodeWav16 } from "../test/helpers/wav.js";
import { makeAudio } from "../test/fixtures/models.js";
import { freePort, startCli, startRedis } from "../test/jobs/processes.js";
import type { CliProcess } from "../test/jobs/processes.js";
import { cores, RESULTS } from "./context.js";
import { median, round } from "./stats.js";


const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "12" },
    rounds: { type: "string", default: "5" },
    dims: { type: "string", default: "tiny" },
    workers: { type: "string", default: "1,2,4" },
    seconds: { type: "string", default: "30" },
    /** Threads per worker; default: the cores split between the workers (at least 1). */
    threads: { type: "string" },
  },
});
const JOBS = Number(values.jobs);
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const WORKERS = values.workers!.split(",").map(Number);
const log = (text: string) => process.stderr.write(`[bench:jobs] ${text}\n`);

interface Job {
  id: string;
  state: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

async function submit(base: string, wav: Buffer): Promise<string> {
  const fd = new FormData();
  fd.append("file", new Blob([wav]), "a.wav");
  fd.append("language", "en");
  const res = await fetch(`${base}/api/v1/jobs`, { method: "POST", body: fd });
  if (res.status !== 202) throw new Error(`submit: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function waitDone(base: string, id: string): Promise<Job> {
  for (;;) {
    const job = (await (await fetch(`${base}/api/v1/jobs/${id}`)).json()) as Job;
    if (job.state === "completed") return job;
    if (job.state === "failed" || job.state === "cancelled") throw new Error(`job ${id} ${job.state}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function syncRequest(base: string, wav: Buffer): Promise<number> {
  const fd = new FormData();
  fd.append("file", new Blob([wav]), "a.wav");
  fd.append("asr_options", JSON.stringify({ backend: { language: "en" } }));
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: fd });
  if (res.status !== 200) throw new Error(`sync: HTTP ${res.status}`);
  await res.arrayBuffer();
  return performance.now() - started;
}

async function timedJob(base: string, wav: Buffer): Promise<{ wallMs: number; queueMs: number }> {
  const started = performance.now();
  const job = await waitDone(base, await submit(base, wav));
  return { wallMs: performance.now() - started, queueMs: Date.parse(job.started_at!) - Date.parse(job.created_at) };
}

async function listening(proc: CliProcess): Promise<string> {
  const line = await proc.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("Server listening at"), 120_000, "the server");
  return String(line.msg).replace("Server listening at ", "");
}

async function stop(procs: CliProcess[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
}

async function main(): Promise<void> {
  const model = await scriptedModelPath({ dims: values.dims as "tiny" });
  const wav = encodeWav16(makeAudio(SECONDS));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-bench-jobs-"));
  const redis = await startRedis(dir);
  const common = { REDIS_URL: redis.url, LOG_LEVEL: "warn", WHISPER_MODEL: model, WHISPER_LANGUAGE: "en", DEVICE: "cpu", DATA_DIR: path.join(dir, "data") };
  const results: Record<string, unknown> = {
    meta: { date: new Date().toISOString().slice(0, 10), host: os.hostname(), cores, cpu: os.cpus()[0]?.model ?? "", model: `${values.dims} (scripted)`, audio_s: SECONDS, jobs: JOBS, rounds: ROUNDS, loadavg_start: os.loadavg().map((l) => round(l, 2)) },
  };
  try {
    // ---- throughput: JOBS jobs at once on N workers ------------------------------------------
    const throughput = [];
    for (const n of WORKERS) {
      const threads = values.threads ? Number(values.threads) : Math.max(1, Math.floor(cores / n));
      const api = startCli(["serve", "--no-inference"], { ...common, PORT: String(await freePort()), HOST: "127.0.0.1", LOG_LEVEL: "info" });
      const workers = Array.from({ length: n }, () => startCli(["worker"], { ...common, WHISPER_THREADS: String(threads), LOG_LEVEL: "info" }));
      try {
        const base = await listening(api);
        await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === "job worker ready", 180_000, "a worker")));
        await timedJob(base, wav); // warm-up
        log(`${n} worker(s) x ${threads} thread(s): ${JOBS} jobs`);
        const started = performance.now();
        const ids = await Promise.all(Array.from({ length: JOBS }, () => submit(base, wav)));
        await Promise.all(ids.map((id) => waitDone(base, id)));
        const seconds = (performance.now() - started) / 1000;
        throughput.push({ workers: n, threads_each: threads, jobs: JOBS, wall_s: round(seconds, 2), jobs_per_min: round((JOBS / seconds) * 60, 2), audio_x_realtime: round((JOBS * SECONDS) / seconds, 2) });
        log(`  ${round(seconds, 2)} s: ${round((JOBS / seconds) * 60, 2)} jobs/min`);
      } finally {
        await stop([api, ...workers]);
      }
    }
    results.throughput = throughput;

    // ---- overhead: the same transcription as a sync request, a BullMQ job, an in-process job --
    log(`overhead: ${ROUNDS} rounds, each path in turn (order rotates)`);
    const threads = values.threads ? Number(values.threads) : cores;
    const sync = startCli(["serve"], { ...common, REDIS_URL: "", PORT: String(await freePort()), HOST: "127.0.0.1", WHISPER_THREADS: String(threads), LOG_LEVEL: "info" });
    const front = startCli(["serve", "--no-inference"], { ...common, PORT: String(await freePort()), HOST: "127.0.0.1", LOG_LEVEL: "info" });
    const worker = startCli(["worker"], { ...common, WHISPER_THREADS: String(threads), LOG_LEVEL: "info" });
    try {
      const [syncBase, frontBase] = await Promise.all([listening(sync), listening(front)]);
      await sync.waitForLog((l) => l.msg === "model ready", 180_000, "the model");
      await worker.waitForLog((l) => l.msg === "job worker ready", 180_000, "the worker");
      const paths = {
        sync: async () => ({ wallMs: await syncRequest(syncBase, wav), queueMs: Number.NaN }),
        bullmq: () => timedJob(frontBase, wav),
        "in-process": () => timedJob(syncBase, wav),
      };
      const names = Object.keys(paths) as (keyof typeof paths)[];
      for (const name of names) await paths[name](); // warm-up
      const walls: Record<string, number[]> = { sync: [], bullmq: [], "in-process": [] };
      const queues: Record<string, number[]> = { bullmq: [], "in-process": [] };
      for (let round_ = 0; round_ < ROUNDS; round_++) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(round_ + k) % names.length]!;
          const r = await paths[name]();
          walls[name]!.push(r.wallMs);
          if (name !== "sync") queues[name]!.push(r.queueMs);
        }
      }
      const syncMedian = median(walls.sync!);
      results.overhead = {
        sync_ms_median: round(syncMedian),
        bullmq_job_ms_median: round(median(walls.bullmq!)),
        in_process_job_ms_median: round(median(walls["in-process"]!)),
        bullmq_overhead_ms: round(median(walls.bullmq!) - syncMedian),
        in_process_overhead_ms: round(median(walls["in-process"]!) - syncMedian),
        threads,
        note: "job wall = submit (upload) + queue + run + the client's poll (10 ms); sync wall = the request",
      };
      results.queue_latency = {
        bullmq_ms_median: round(median(queues.bullmq!)),
        bullmq_ms_max: round(Math.max(...queues.bullmq!)),
        in_process_ms_median: round(median(queues["in-process"]!)),
        in_process_ms_max: round(Math.max(...queues["in-process"]!)),
        note: "created_at -> started_at of a job submitted to an idle worker (ms resolution)",
      };
    } finally {
      await stop([sync, front, worker]);
    }
  } finally {
    await redis.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
  (results.meta as Record<string, unknown>).loadavg_end = os.loadavg().map((l) => round(l, 2));
  const out = process.env.BENCH_JOBS_OUT ?? path.join(RESULTS, "jobs-latest.json");
  await fs.writeFile(out, JSON.stringify(results, null, 2));
  console.log(JSON.stringify(results, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
