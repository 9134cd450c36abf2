// Jobs without Redis: the in-process queue on the server's own model (durable with
// JOB_STORAGE=dir:), the jobs API, TingWu's async routes, webhooks and the URL guard.
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ffmpegAvailable } from "../../lib/audio/ffmpeg.js";
import { checkUrl, isPrivateAddress } from "../../lib/jobs/fetch-url.js";
import { SIGNATURE_HEADER, signWebhook } from "../../lib/jobs/webhook.js";
import { form, NOT_WAV, postForm, SCRIPT, SCRIPT_SENTENCES, SCRIPT_TEXT, startTestServer, waitFor, wavFile } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";
import { isFinal } from "../../lib/jobs/types.js";
import type { JobState } from "../../lib/jobs/types.js";

const HAS_FFMPEG = await ffmpegAvailable();

interface JobBody {
  id: string;
  state: JobState;
  progress: number;
  attempts: number;
  error: string | null;
  format: string;
  result?: unknown;
}

const servers: TestServer[] = [];
const start = async (env: Record<string, string> = {}) => {
  const server = await startTestServer(env);
  servers.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let dir: string;
let files: http.Server;
let filesBase: string;
const hooks: { headers: http.IncomingHttpHeaders; body: string }[] = [];
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-jobs-"));
  const wav = wavFile();
  files = http.createServer((req, res) => {
    if (req.method === "POST" && req.url === "/hook") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        hooks.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    } else if (req.url === "/speech.wav") res.writeHead(200).end(wav);
    else if (req.url === "/redirect") res.writeHead(302, { location: "/speech.wav" }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
  filesBase = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => files.close(resolve));
  await fs.rm(dir, { recursive: true, force: true });
});

const getJob = async (base: string, id: string, query = ""): Promise<JobBody> => {
  const res = await fetch(`${base}/api/v1/jobs/${id}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobBody;
};
const waitFinal = async (base: string, id: string, query = ""): Promise<JobBody> => {
  let job: JobBody | undefined;
  await waitFor(
    async () => {
      job = await getJob(base, id, query);
      return isFinal(job.state);
    },
    240_000,
    `job ${id}`,
  );
  return job!;
};
const submitFile = async (base: string, data: Buffer, fields: Record<string, string> = {}) => {
  const res = await postForm(`${base}/api/v1/jobs`, form({ file: data, ...fields }));
  expect(res.status).toBe(202);
  const body = (await res.json()) as { id: string; state: string; url: string };
  expect(res.headers.get("location")).toBe(`/api/v1/jobs/${body.id}`);
  return body.id;
};
const postJson = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("jobs API (in-process)", () => {
  it("runs an uploaded file and gives the result in the submitted format or any other", async () => {
    const server = await start();
    expect(server.app.jobs.kind).toBe("in-process");
    const id = await submitFile(server.base, wavFile(), { response_format: "srt" });
    const job = await waitFinal(server.base, id);
    expect(job).toMatchObject({ state: "completed", progress: 100, attempts: 1, error: null, format: "srt" });
    expect(job.result).toBe("1\n00:00:00,400 --> 00:00:01,800\nHello world, this is TingWu.\n\n2\n00:00:02,000 --> 00:00:03,600\n你好，世界。\n\n");
    expect((await getJob(server.base, id, "?format=json")).result).toEqual({ text: SCRIPT_TEXT, language: "zh", duration: 4, sentences: SCRIPT_SENTENCES });
    expect((await getJob(server.base, id, "?format=tingwu")).result).toMatchObject({ code: 0, text: SCRIPT_TEXT, raw_text: SCRIPT_TEXT });
    expect((await getJob(server.base, id, "?format=tsv")).result).toBe("start\tend\ttext\n400\t1800\tHello world, this is TingWu.\n2000\t3600\t你好，世界。\n");
    const list = (await (await fetch(`${server.base}/api/v1/jobs?limit=1`)).json()) as { total: number; jobs: JobBody[] };
    expect(list).toMatchObject({ total: 1, offset: 0, limit: 1, jobs: [{ id, state: "completed" }] });
    expect(list.jobs[0]!.result).toBeUndefined();
  });

  it("fetches a URL given as JSON (redirects followed) when private addresses are allowed, and refuses it otherwise", async () => {
    const open = await start({ ALLOW_PRIVATE_URLS: "1" });
    const res = await postJson(`${open.base}/api/v1/jobs`, { url: `${filesBase}/redirect`, response_format: "text", asr_options: { backend: { language: "zh" } } });
    expect(res.status).toBe(202);
    const job = await waitFinal(open.base, ((await res.json()) as { id: string }).id);
    expect(job).toMatchObject({ state: "completed", result: "Hello world, this is TingWu.\n你好，世界。\n" });

    const missing = await postJson(`${open.base}/api/v1/jobs`, { url: `${filesBase}/missing.wav` });
    expect(await waitFinal(open.base, ((await missing.json()) as { id: string }).id)).toMatchObject({ state: "failed", attempts: 1, error: "Fetching the URL failed: HTTP 404" });

    const guarded = await start();
    for (const [url, detail] of [
      [`${filesBase}/speech.wav`, /^The URL's host 127\.0\.0\.1 is a private or loopback address \(set ALLOW_PRIVATE_URLS=1 to allow\)$/],
      ["http://localhost:9/x.wav", /private or loopback/],
      ["http://[::ffff:10.0.0.1]/x.wav", /private or loopback/],
      ["file:///etc/passwd", /^Only http and https URLs can be fetched, not file:$/],
      ["not a url", /^Expected an http\(s\) URL/],
    ] as const) {
      const r = await postJson(`${guarded.base}/api/v1/jobs`, { url });
      expect(r.status, url).toBe(400);
      expect(((await r.json()) as { detail: string }).detail).toMatch(detail);
    }
    const neither = await postJson(`${guarded.base}/api/v1/jobs`, { response_format: "srt" });
    expect(neither.status).toBe(400);
    expect(await neither.json()).toEqual({ detail: "Give exactly one of file (a multipart upload) and url" });
    const badOption = await postJson(`${guarded.base}/api/v1/jobs`, { url: "https://example.com/a.wav", beam_size: 9 });
    expect(badOption.status).toBe(400);
    expect(((await badOption.json()) as { detail: string }).detail).toMatch(/beam_size/);
  });

  it("fails undecodable audio once, with the decoder's error", async () => {
    const server = await start();
    const id = await submitFile(server.base, Buffer.from("not audio ".repeat(100)));
    const job = await waitFinal(server.base, id);
    expect(job).toMatchObject({ state: "failed", attempts: 1 });
    expect(job.error).toMatch(NOT_WAV.detail);
  });

  it("cancels a running job (aborted on the model) and a waiting one; a finished job answers 409; an unknown one 404", async () => {
    const server = await start();
    const running = await submitFile(server.base, wavFile(600));
    const waiting = await submitFile(server.base, wavFile());
    await waitFor(async () => (await getJob(server.base, running)).state === "active", 60_000, "the long job to start");
    expect((await getJob(server.base, waiting)).state).toBe("waiting");
    let res = await fetch(`${server.base}/api/v1/jobs/${waiting}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: waiting, state: "cancelled", error: "The job was cancelled", attempts: 0 });
    res = await fetch(`${server.base}/api/v1/jobs/${running}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: running, state: "cancelled", error: "The job was cancelled", attempts: 1 });
    expect(server.app.tingwu.queue.running).toBe(0);

    const done = await submitFile(server.base, wavFile());
    expect((await waitFinal(server.base, done)).state).toBe("completed");
    res = await fetch(`${server.base}/api/v1/jobs/${done}`, { method: "DELETE" });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: "The job already finished (completed)" });
    res = await fetch(`${server.base}/api/v1/jobs/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/^No job "nope"/);
  });

  it("with JOB_STORAGE=dir: a job interrupted by a shutdown runs at the next start; finished jobs are still there", async () => {
    const storage = path.join(dir, "durable");
    const env = { JOB_STORAGE: `dir:${storage}` };
    const first = await start(env);
    const done = await submitFile(first.base, wavFile());
    expect((await waitFinal(first.base, done)).state).toBe("completed");
    const interrupted = await submitFile(first.base, wavFile(90));
    await waitFor(async () => (await getJob(first.base, interrupted)).state === "active", 60_000, "the job to start");
    await servers.splice(0)[0]!.close();
    expect(JSON.parse(await fs.readFile(path.join(storage, "jobs", `${interrupted}.json`), "utf8"))).toMatchObject({ state: "waiting" });

    const second = await start(env);
    expect((await getJob(second.base, done)).result).toMatchObject({ text: SCRIPT_TEXT });
    const job = await waitFinal(second.base, interrupted);
    expect(job).toMatchObject({ state: "completed", attempts: 2 });
    expect((job.result as { text: string }).text).toBe(SCRIPT.text.repeat(3).trim());
    // The audio is deleted once the job is done (just after its state changes).
    await waitFor(async () => (await fs.readdir(path.join(storage, "audio"))).length === 0, 30_000, "the job audio to be deleted");
  });

  it("refuses to start with JOB_STORAGE=s3:// (not implemented), saying what to use instead", async () => {
    await expect(startTestServer({ JOB_STORAGE: "s3://bucket/jobs" }, { load: false })).rejects.toThrow(
      /^JOB_STORAGE=s3:\/\/bucket\/jobs is not supported yet; use JOB_STORAGE=dir:\/path/,
    );
  });

  it("POSTs a signed webhook when a job ends", async () => {
    const secret = "s3cret";
    const server = await start({ ALLOW_PRIVATE_URLS: "1", JOB_WEBHOOK_SECRET: secret });
    hooks.length = 0;
    const id = await submitFile(server.base, wavFile(), { webhook_url: `${filesBase}/hook`, response_format: "text" });
    await waitFor(() => hooks.length > 0, 120_000, "the webhook");
    const hook = hooks[0]!;
    expect(JSON.parse(hook.body)).toEqual({ id, state: "completed", result: "Hello world, this is TingWu.\n你好，世界。\n" });
    const signature = String(hook.headers[SIGNATURE_HEADER]);
    const t = Number(/^t=(\d+),/.exec(signature)?.[1]);
    expect(signature).toBe(signWebhook(secret, hook.body, t));
    expect(Math.abs(Date.now() / 1000 - t)).toBeLessThan(600);
  });
});

describe("TingWu's async routes (in-process)", () => {
  it("trans/url then result: pending/processing, then success with TingWu's transcription; deleted after reading; unknown → code 404", async () => {
    const server = await start({ ALLOW_PRIVATE_URLS: "1" });
    const res = await postForm(`${server.base}/api/v1/trans/url`, form({ audio_url: `${filesBase}/speech.wav`, apply_llm: "true", llm_role: "default" }));
    expect(res.status).toBe(200);
    const submitted = (await res.json()) as { data: { task_id: string } };
    expect(submitted).toEqual({ code: 200, status: "success", message: "任务已提交", data: { task_id: expect.any(String) } });
    let body: { code: number; status: string; message: string; data?: unknown } | undefined;
    await waitFor(async () => {
      body = (await (await postForm(`${server.base}/api/v1/result`, form({ task_id: submitted.data.task_id, delete: "false" }))).json()) as typeof body;
      return body!.code !== 202;
    }, 120_000);
    expect(body).toEqual({
      code: 200,
      status: "success",
      message: "获取结果成功",
      data: { code: 0, text: SCRIPT_TEXT, text_accu: null, sentences: SCRIPT_SENTENCES.map((s) => ({ ...s, speaker: null, speaker_id: null })), speaker_turns: null, transcript: null, raw_text: SCRIPT_TEXT },
    });
    expect(((await (await postForm(`${server.base}/api/v1/result`, form({ task_id: submitted.data.task_id }))).json()) as { code: number }).code).toBe(200);
    expect(await (await postForm(`${server.base}/api/v1/result`, form({ task_id: submitted.data.task_id }))).json()).toEqual({ code: 404, status: "error", message: "任务不存在或已过期" });

    const bad = await postForm(`${server.base}/api/v1/trans/url`, form({ audio_url: `${filesBase}/speech.wav`, asr_options: "{nope" }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/^asr_options is not valid JSON/);
  });

  it.runIf(HAS_FFMPEG)("trans/video extracts a video's audio with ffmpeg and answers TingWu's transcription", async () => {
    const video = path.join(dir, "clip.mp4");
    const wav = path.join(dir, "clip.wav");
    await fs.writeFile(wav, wavFile());
    execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=4", "-i", wav, "-shortest", "-c:v", "libx264", "-c:a", "aac", "-b:a", "128k", video]);
    const server = await start();
    const res = await postForm(`${server.base}/api/v1/trans/video`, form({ file: { data: await fs.readFile(video), name: "clip.mp4" } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { code: number; text: string; sentences: { text: string }[] };
    expect(body.code).toBe(0);
    // AAC changes the samples but not the scripted model's words.
    expect(body.text).toBe(SCRIPT_TEXT);
    expect(body.sentences.map((s) => s.text)).toEqual(SCRIPT_SENTENCES.map((s) => s.text));
    // The job is removed once answered.
    expect(((await (await fetch(`${server.base}/api/v1/jobs`)).json()) as { total: number }).total).toBe(0);

    const notVideo = await postForm(`${server.base}/api/v1/trans/video`, form({ file: Buffer.from("garbage".repeat(50)) }));
    expect(notVideo.status).toBe(NOT_WAV.status);
  });
});

describe("URL guard", () => {
  it.each([
    ["127.0.0.1", true], ["10.1.2.3", true], ["172.20.0.1", true], ["192.168.1.1", true], ["169.254.169.254", true], ["100.64.0.1", true],
    ["0.0.0.0", true], ["::1", true], ["fe80::1", true], ["fd00::1", true], ["::ffff:127.0.0.1", true], ["8.8.8.8", false], ["2606:4700::1111", false], ["example.com", true],
  ])("isPrivateAddress(%s) is %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it("checkUrl allows public http(s) and everything with ALLOW_PRIVATE_URLS", () => {
    expect(checkUrl("https://example.com/a.mp3", false).href).toBe("https://example.com/a.mp3");
    expect(checkUrl("http://127.0.0.1:8080/a.mp3", true).host).toBe("127.0.0.1:8080");
    expect(() => checkUrl("http://user:pw@example.com/", false)).toThrow(/credentials/);
    expect(() => checkUrl("ftp://example.com/a", false)).toThrow(/^Only http and https URLs can be fetched, not ftp:$/);
  });
});
