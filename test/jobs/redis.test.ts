// Jobs on a real Redis (redis-server started here, AOF on), an API-only front
// (`serve --no-inference`) and worker processes on the scripted model: 20 jobs across two
// workers while one is SIGKILLed mid-job and Redis is restarted; a running job cancelled; bad
// audio failing once; TingWu's async routes; a SIGTERMed worker handing its job back. Every job
// must end exactly once with the exact transcript. Skipped without redis-server unless
// TINGWU_REQUIRE_REDIS=1 (CI), which makes a missing redis-server a failure.
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptedModelPath } from "../fixtures/models.js";
import { form, postForm, SCRIPT, SCRIPT_SENTENCES, SCRIPT_TEXT, waitFor, wavFile } from "../server/helpers.js";
import { killQuietly, REDIS_AVAILABLE, startCli, startRedis } from "./processes.js";
import type { CliProcess, LogLine, RedisServer } from "./processes.js";
import { isFinal } from "../../lib/jobs/types.js";
import type { JobState } from "../../lib/jobs/types.js";

const REQUIRED = process.env.TINGWU_REQUIRE_REDIS === "1";

describe.runIf(REQUIRED && !REDIS_AVAILABLE)("redis-server (TINGWU_REQUIRE_REDIS=1)", () => {
  it("is installed", () => {
    expect.fail("TINGWU_REQUIRE_REDIS=1 but redis-server is not on PATH (apt-get install redis-server)");
  });
});

/** TingWu's sentences of `windows` 30 s windows of the script. */
const sentences = (windows: number) =>
  Array.from({ length: windows }, (_, w) => SCRIPT_SENTENCES.map((s) => ({ ...s, start: s.start + w * 30_000, end: s.end + w * 30_000, speaker: null, speaker_id: null }))).flat();

interface JobBody {
  id: string;
  state: JobState;
  progress: number;
  attempts: number;
  error: string | null;
  result?: { text: string; sentences: unknown[] };
}

describe.runIf(REDIS_AVAILABLE)("jobs on BullMQ with a real Redis", () => {
  let dir: string;
  let redis: RedisServer;
  let api: CliProcess;
  let base: string;
  let audioServer: http.Server;
  let audioUrl: string;
  const workers: CliProcess[] = [];
  let workerEnv: Record<string, string>;

  /** A `worker`, or with `serve`, a server that also runs jobs (`serve --worker`). */
  const startWorker = async (serve = false) => {
    const worker = serve ? startCli(["serve", "--worker"], { ...workerEnv, PORT: "0", HOST: "127.0.0.1" }) : startCli(["worker", "--drain-timeout", "1"], workerEnv);
    workers.push(worker);
    await worker.waitForLog((l) => l.msg === "job worker ready", 180_000, "the worker to be ready");
    return worker;
  };

  /** GET a job, riding out the moments Redis is down (503). */
  const getJob = async (id: string): Promise<JobBody | undefined> => {
    const res = await fetch(`${base}/api/v1/jobs/${id}`);
    if (res.status === 503) return undefined;
    expect(res.status).toBe(200);
    return (await res.json()) as JobBody;
  };
  const waitFinal = async (id: string, timeoutMs = 240_000): Promise<JobBody> => {
    let job: JobBody | undefined;
    await waitFor(
      async () => {
        job = await getJob(id);
        return job !== undefined && isFinal(job.state);
      },
      timeoutMs,
      `job ${id} to finish`,
    );
    return job!;
  };
  const submit = async (data: Buffer): Promise<string> => {
    for (;;) {
      const res = await postForm(`${base}/api/v1/jobs`, form({ file: data, response_format: "tingwu" }));
      if (res.status === 503) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    }
  };
  /** "job finished" lines of every worker (dead ones included), for one job. */
  const finishedLines = (id: string): LogLine[] => workers.flatMap((w) => w.logs.filter((l) => l.msg === "job finished" && l.job === id));
  const startedOn = (id: string): CliProcess[] => workers.filter((w) => w.logs.some((l) => l.msg === "job started" && l.job === id));

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-jobs-redis-"));
    redis = await startRedis(dir);
    const wav = wavFile();
    audioServer = http.createServer((req, res) => {
      if (req.url === "/speech.wav") res.writeHead(200, { "content-type": "audio/wav" }).end(wav);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => audioServer.listen(0, "127.0.0.1", resolve));
    audioUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/speech.wav`;
    const common = { REDIS_URL: redis.url, ALLOW_PRIVATE_URLS: "1", JOB_STORAGE: `dir:${path.join(dir, "shared")}`, JOB_REDIS_AUDIO_MAX_MB: "0.5", DATA_DIR: path.join(dir, "data") };
    workerEnv = { ...common, WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }), WHISPER_THREADS: "1", JOB_LOCK_MS: "5000" };
    api = startCli(["serve", "--no-inference"], { ...common, PORT: "0", HOST: "127.0.0.1" });
    const listening = await api.waitForLog((l) => typeof l.msg === "string" && l.msg.startsWith("Server listening at"), 120_000, "the API to listen");
    base = String(listening.msg).replace("Server listening at ", "");
    await Promise.all([startWorker(), startWorker()]);
  });

  afterAll(async () => {
    if (process.env.TINGWU_JOBS_DEBUG) {
      const dump = [api, ...workers].map((p, i) => `== ${i === 0 ? "api" : `worker ${i}`}\n${p.logs.map((l) => JSON.stringify(l)).join("\n")}\n${p.stderr()}`).join("\n");
      await fs.writeFile(process.env.TINGWU_JOBS_DEBUG, dump);
    }
    for (const proc of [api, ...workers]) killQuietly(proc);
    await redis?.stop();
    await new Promise((resolve) => audioServer?.close(resolve));
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("the API-only front refuses sync transcriptions with 503 and a pointer to the jobs routes", async () => {
    const res = await postForm(`${base}/api/v1/transcribe`, form({ file: wavFile() }));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/API-only front \(serve --no-inference\): submit jobs to \/api\/v1\/jobs/);
  });

  it("20 jobs over two workers, one SIGKILLed mid-job and Redis restarted mid-run: each completes exactly once with the exact transcript", { timeout: 900_000 }, async () => {
    // The first job is long (5 windows of 30 s), so the worker that takes it is killed mid-job.
    // Half the others are over JOB_REDIS_AUDIO_MAX_MB (0.5 MB): they go through the shared directory.
    const seconds = Array.from({ length: 20 }, (_, i) => (i === 0 ? 150 : i % 2 === 0 ? 4 : 20));
    const ids: string[] = [];
    for (const s of seconds) ids.push(await submit(wavFile(s)));
    const killedJob = ids[0]!;

    await waitFor(() => workers.some((w) => w.logs.some((l) => l.msg === "job started" && l.job === killedJob)), 180_000, "the long job to start");
    const victim = startedOn(killedJob)[0]!;
    victim.child.kill("SIGKILL");
    await victim.exited;
    expect(finishedLines(killedJob)).toEqual([]);
    // A replacement comes up, as an orchestrator would start one: a server that also runs jobs.
    const replacement = startWorker(true);

    // Restart Redis once a few jobs are done; the queued ones must survive (AOF).
    await waitFor(async () => (await Promise.all(ids.map(getJob))).filter((j) => j?.state === "completed").length >= 3, 300_000, "3 jobs to complete");
    await redis.stop();
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    await replacement;

    const finals: JobBody[] = [];
    for (const id of ids) finals.push(await waitFinal(id, 600_000));
    finals.forEach((job, i) => {
      const windows = Math.ceil(seconds[i]! / 30);
      expect(job.state, job.error ?? "").toBe("completed");
      expect(job.progress).toBe(100);
      expect(job.result, JSON.stringify(job)).toMatchObject({ code: 0, text: SCRIPT.text.repeat(windows).trim(), sentences: sentences(windows) });
    });
    expect(finals[1]!.result!.text).toBe(SCRIPT_TEXT);
    // Exactly once: Redis holds one completion per job (above), and no worker, the killed one
    // included, saw any job complete twice or fail. (A completion whose reply was lost when Redis
    // went down is in Redis but never reached its worker, so a log line may be missing: wait for
    // the lines a while, then count them.)
    await waitFor(() => ids.every((id) => finishedLines(id).length > 0), 30_000, "every worker's log of its jobs").catch(() => {});
    await new Promise((r) => setTimeout(r, 2000));
    for (const id of ids) {
      expect(finishedLines(id).filter((l) => l.state === "completed").length, id).toBeLessThanOrEqual(1);
      expect(finishedLines(id).filter((l) => l.state !== "completed"), id).toEqual([]);
    }
    expect(ids.filter((id) => finishedLines(id).length === 1).length).toBeGreaterThanOrEqual(ids.length - 2);
    // The killed job was picked up again by another worker.
    expect(finals[0]!.attempts).toBeGreaterThanOrEqual(2);
    expect(startedOn(killedJob).some((w) => w !== victim)).toBe(true);
    expect(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null)).toHaveLength(2);
  });

  it("cancels a running job on its worker, which then takes the next job", { timeout: 600_000 }, async () => {
    const id = await submit(wavFile(300));
    await waitFor(async () => (await getJob(id))?.state === "active", 180_000, "the long job to start");
    const res = await fetch(`${base}/api/v1/jobs/${id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as JobBody).state).toBe("cancelled");
    const worker = startedOn(id)[0]!;
    await worker.waitForLog((l) => l.msg === "job finished" && l.job === id, 60_000, "the worker to stop the cancelled job");
    expect(finishedLines(id)).toEqual([expect.objectContaining({ state: "failed", error: "The job was cancelled" })]);
    const job = await waitFinal(id);
    expect(job).toMatchObject({ state: "cancelled", error: "The job was cancelled" });
    expect(job.attempts).toBe(1);
    // A cancelled job can't be cancelled again, and is no longer running anywhere.
    expect((await fetch(`${base}/api/v1/jobs/${id}`, { method: "DELETE" })).status).toBe(200);
    const next = await submit(wavFile());
    expect((await waitFinal(next)).state).toBe("completed");
  });

  it("undecodable audio fails once, with the decoder's error, and is not retried", { timeout: 300_000 }, async () => {
    const id = await submit(Buffer.from("this is not audio at all, not even close".repeat(20)));
    const job = await waitFinal(id);
    expect(job.state).toBe("failed");
    expect(job.error).toMatch(/^Could not decode the audio file|^This server can only decode WAV files/);
    expect(job.attempts).toBe(1);
    expect(workers.flatMap((w) => w.logs.filter((l) => l.msg === "job started" && l.job === id))).toHaveLength(1);
  });

  it("TingWu's async routes: /api/v1/trans/url queues the URL, /api/v1/result reports it in TingWu's shapes and deletes it", { timeout: 300_000 }, async () => {
    const res = await postForm(`${base}/api/v1/trans/url`, form({ audio_url: audioUrl, hotwords: "TingWu" }));
    expect(res.status).toBe(200);
    const submitted = (await res.json()) as { code: number; status: string; message: string; data: { task_id: string } };
    expect(submitted).toMatchObject({ code: 200, status: "success", data: { task_id: expect.any(String) } });
    const taskId = submitted.data.task_id;
    let body: { code: number; status: string; message: string; data?: unknown } | undefined;
    await waitFor(
      async () => {
        const r = await postForm(`${base}/api/v1/result`, form({ task_id: taskId, delete: "false" }));
        body = (await r.json()) as typeof body;
        if (body!.code === 202) expect(body).toMatchObject({ status: expect.stringMatching(/^(pending|processing)$/), data: { task_id: taskId } });
        return body!.code !== 202;
      },
      240_000,
      "the URL task to finish",
    );
    expect(body).toMatchObject({ code: 200, status: "success", data: { code: 0, text: SCRIPT_TEXT, raw_text: SCRIPT_TEXT, text_accu: null } });
    const again = (await (await postForm(`${base}/api/v1/result`, form({ task_id: taskId }))).json()) as { code: number };
    expect(again.code).toBe(200);
    expect(await (await postForm(`${base}/api/v1/result`, form({ task_id: taskId }))).json()).toEqual({ code: 404, status: "error", message: "任务不存在或已过期" });
  });

  it("SIGTERM: a worker whose job outlasts its drain time hands it back (another finishes it), a server drains it; the process exits 0", { timeout: 600_000 }, async () => {
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const id = await submit(wavFile(90));
    await waitFor(async () => (await getJob(id))?.state === "active", 180_000, "the job to start");
    await waitFor(() => startedOn(id).length > 0, 30_000, "a worker to log the start");
    const holder = startedOn(id).find((w) => alive.includes(w))!;
    const isServer = holder.child.spawnargs.includes("serve");
    holder.child.kill("SIGTERM");
    expect(await holder.exited).toEqual({ code: 0, signal: null });
    const job = await waitFinal(id, 400_000);
    expect(job.state).toBe("completed");
    await waitFor(() => finishedLines(id).length > 0, 60_000, "the worker's log of the job");
    expect(finishedLines(id).map((l) => l.state)).toEqual(["completed"]);
    if (isServer) {
      // `serve --worker` drains for up to 120 s: it finishes the job itself before exiting.
      expect(holder.logs.some((l) => l.msg === "job finished" && l.job === id)).toBe(true);
    } else if (holder.logs.some((l) => l.msg === "job finished" && l.job === id)) {
      // A fast machine finished the job within `--drain-timeout 1`: nothing to hand back.
      expect(holder.logs.some((l) => l.msg === "shutting down: handing the job back to the queue" && l.job === id)).toBe(false);
    } else {
      // `worker --drain-timeout 1` hands it back; the other one runs it.
      expect(holder.logs.some((l) => l.msg === "shutting down: handing the job back to the queue" && l.job === id)).toBe(true);
      expect(startedOn(id).filter((w) => w !== holder).length).toBeGreaterThan(0);
    }
  });
});
