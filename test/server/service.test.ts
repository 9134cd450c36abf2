// Service behaviour over a real socket: upload limit, bounded queue, disconnects, timeouts,
// metrics, request ids and logs, the OpenAPI document.
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { form, metrics, metricValue, NOT_WAV, postForm, SCRIPT_SENTENCES, SCRIPT_TEXT, startTestServer, waitFor, wavFile } from "./helpers.js";
import type { TestServer } from "./helpers.js";

const servers: TestServer[] = [];
async function start(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const gauge = async (base: string, name: string, labels = "") => metricValue(await metrics(base), `tingwu_whisper_${name}`, labels);

/** The TingWu sentences of `windows` 30 s windows of the script. */
function sentences(windows: number) {
  return Array.from({ length: windows }, (_, w) => SCRIPT_SENTENCES.map((s) => ({ ...s, start: s.start + w * 30_000, end: s.end + w * 30_000 }))).flat();
}

describe("upload limit", () => {
  it("413 in each dialect's error shape", async () => {
    const server = await start({ WHISPER_MAX_UPLOAD_MB: "0.05" }); // 52 KB; a 4 s WAV is 128 KB
    const big = wavFile();
    let res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: big }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: "The upload is larger than the limit of 0.05 MB (WHISPER_MAX_UPLOAD_MB)" });
    res = await postForm(`${server.base}/asr?output=srt`, form({ audio_file: big }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: "The upload is larger than the limit of 0.05 MB (WHISPER_MAX_UPLOAD_MB)" });
    res = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: big, model: "whisper-1" }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { message: "The upload is larger than the limit of 0.05 MB (WHISPER_MAX_UPLOAD_MB)", type: "invalid_request_error", param: "file", code: "file_too_large" },
    });
    // A batch with one file over the limit is refused whole, and so is one whose files together
    // exceed it (the limit bounds what one request holds in memory).
    res = await postForm(`${server.base}/api/v1/transcribe/batch`, form({ files: [wavFile(1), big] }));
    expect(res.status).toBe(413);
    res = await postForm(`${server.base}/api/v1/transcribe/batch`, form({ files: [wavFile(1), wavFile(1)] })); // 2 x 32 KB
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ detail: "The upload is larger than the limit of 0.05 MB (WHISPER_MAX_UPLOAD_MB)" });
    // Files under the limit still work on the same server.
    res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(1.5) }));
    expect(res.status).toBe(200);
  });
});

describe("bounded queue", () => {
  it("a burst beyond pool + queue gets 503 with Retry-After; every accepted request completes", async () => {
    const server = await start({ WHISPER_POOL_SIZE: "1", WHISPER_QUEUE_SIZE: "1" });
    const audio = wavFile(20);
    const responses = await Promise.all(Array.from({ length: 6 }, () => postForm(`${server.base}/api/v1/transcribe`, form({ file: audio }))));
    const ok = responses.filter((r) => r.status === 200);
    const busy = responses.filter((r) => r.status === 503);
    expect(ok).toHaveLength(2);
    expect(busy).toHaveLength(4);
    for (const res of ok) expect(((await res.json()) as { sentences: unknown }).sentences).toEqual(sentences(1).map((s) => ({ ...s, speaker: null, speaker_id: null })));
    for (const res of busy) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/^The server is busy: .*WHISPER_QUEUE_SIZE=1.*retry later$/);
    }
    const text = await metrics(server.base);
    expect(metricValue(text, "tingwu_whisper_queue_rejected_total")).toBe(4);
    expect(metricValue(text, "tingwu_whisper_queue_depth")).toBe(0);
    expect(metricValue(text, "tingwu_whisper_inference_active")).toBe(0);
  });

  it("when the queue is full every dialect answers 503 in its own shape, and the queued work still finishes", async () => {
    const server = await start({ WHISPER_POOL_SIZE: "1", WHISPER_QUEUE_SIZE: "1" });
    const long = [postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(40) })), postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(40) }))];
    await waitFor(async () => (await gauge(server.base, "inference_active")) === 1 && (await gauge(server.base, "queue_depth")) === 1, 30_000, "a full queue");

    const openai = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavFile(), model: "whisper-1" }));
    expect(openai.status).toBe(503);
    expect(Number(openai.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await openai.json()).toEqual({ error: { message: expect.stringMatching(/^The server is busy/), type: "server_error", param: null, code: "server_overloaded" } });

    const asr = await postForm(`${server.base}/asr`, form({ audio_file: wavFile() }));
    expect(asr.status).toBe(503);
    expect(Number(asr.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await asr.json()).toEqual({ detail: expect.stringMatching(/^The server is busy/) });

    const detect = await postForm(`${server.base}/detect-language`, form({ audio_file: wavFile() }));
    expect(detect.status).toBe(503);

    for (const res of await Promise.all(long)) {
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ code: 0, sentences: sentences(2).map((s) => ({ ...s, speaker: null, speaker_id: null })) });
    }
  });
});

describe("client disconnect", () => {
  it("aborts the running inference", async () => {
    const server = await start();
    const controller = new AbortController();
    const request = postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(120) }), { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(async () => (await gauge(server.base, "inference_active")) === 1, 30_000, "the inference to start");
    const whisper = (server.manager.backendInstance as import("../../lib/backends/whisper.js").WhisperBackend).whisper;
    expect(whisper.active).toBe(1);
    const abortedAt = performance.now();
    controller.abort();
    expect(await request).toMatchObject({ name: "AbortError" });
    await waitFor(async () => (await gauge(server.base, "inference_active")) === 0, 10_000, "the inference to stop");
    // 120 s of audio takes ~15 s here; stopping must not wait for it.
    expect(performance.now() - abortedAt).toBeLessThan(5_000);
    expect(whisper.active).toBe(0);
    const text = await metrics(server.base);
    expect(metricValue(text, "tingwu_whisper_inference_aborted_total", '{reason="client_disconnect"}')).toBe(1);
    expect(metricValue(text, "tingwu_whisper_http_requests_total", '{method="POST",route="/api/v1/transcribe",status="499"}')).toBe(1);
    expect(metricValue(text, "tingwu_whisper_audio_seconds_total")).toBe(0);
    // The model is free again.
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile() }));
    expect(((await res.json()) as { text: string }).text).toBe(SCRIPT_TEXT);
  });

  it("removes a queued request from the queue", async () => {
    const server = await start({ WHISPER_POOL_SIZE: "1", WHISPER_QUEUE_SIZE: "4" });
    const first = postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(40) }));
    await waitFor(async () => (await gauge(server.base, "inference_active")) === 1, 30_000, "the first inference");
    const controller = new AbortController();
    const queued = postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile() }), { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(async () => (await gauge(server.base, "queue_depth")) === 1, 10_000, "the second request to queue");
    controller.abort();
    await queued;
    await waitFor(async () => (await gauge(server.base, "queue_depth")) === 0, 10_000, "the queue to empty");
    expect((await first).status).toBe(200);
    expect(await gauge(server.base, "inferences_total", '{kind="transcribe",outcome="ok"}')).toBe(1);
  });
});

describe("per-request timeout", () => {
  it("scales with the audio and answers 504 when exceeded", async () => {
    // 1/32 ms per audio second: 4 ms for 120 s, far less than the mel spectrogram of 120 s takes on
    // any machine, so the timer always wins (a faster machine once beat a 0.6 s limit).
    const server = await start({}, { app: { inferenceTimeout: { baseMs: 0, perAudioSecondMs: 1 / 32 } } });
    expect(server.app.tingwu.timeoutMs(60_000)).toBe(2);
    expect(server.app.tingwu.timeoutMs(120_000)).toBe(4);
    const started = performance.now();
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile(120) }));
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ detail: "The transcription took longer than its 0.004 s limit for 120 s of audio" });
    expect(performance.now() - started).toBeLessThan(6_000);
    expect(await gauge(server.base, "inference_aborted_total", '{reason="timeout"}')).toBe(1);
    expect(await gauge(server.base, "inference_active")).toBe(0);
  });
});

describe("metrics, logs, request ids, OpenAPI", () => {
  it("/metrics/prometheus reports requests, durations, queue depth, audio seconds and real-time factor", async () => {
    const server = await start();
    for (let i = 0; i < 2; i++) expect((await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile() }))).status).toBe(200);
    const res = await fetch(`${server.base}/metrics/prometheus`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(metricValue(text, "tingwu_whisper_http_requests_total", '{method="POST",route="/api/v1/transcribe",status="200"}')).toBe(2);
    expect(metricValue(text, "tingwu_whisper_http_request_duration_seconds_count", '{method="POST",route="/api/v1/transcribe"}')).toBe(2);
    expect(metricValue(text, "tingwu_whisper_audio_seconds_total")).toBe(8);
    expect(metricValue(text, "tingwu_whisper_real_time_factor_count")).toBe(2);
    expect(metricValue(text, "tingwu_whisper_real_time_factor_sum")).toBeGreaterThan(0);
    expect(metricValue(text, "tingwu_whisper_inference_duration_seconds_count")).toBe(2);
    expect(metricValue(text, "tingwu_whisper_queue_depth")).toBe(0);
    expect(metricValue(text, "tingwu_whisper_queue_capacity")).toBe(17);
    expect(metricValue(text, "tingwu_whisper_model_state", '{state="ready"}')).toBe(1);
    expect(text).toMatch(/^# TYPE tingwu_whisper_real_time_factor histogram$/m);
    expect(text).toMatch(/^tingwu_whisper_real_time_factor_bucket\{le="\+Inf"\} 2$/m);
  });

  it("echoes a sane X-Request-Id, replaces a bad one, and logs structured lines with it", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) if (line.trim()) lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await start({}, { app: { logger: { level: "info", stream } } });
    const res = await fetch(`${server.base}/health`, { headers: { "X-Request-Id": "trace-42" } });
    expect(res.headers.get("x-request-id")).toBe("trace-42");
    const bad = await fetch(`${server.base}/health`, { headers: { "X-Request-Id": "no spaces\tor tabs allowed" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    await postForm(`${server.base}/api/v1/transcribe`, form({ file: Buffer.from("junk") }));
    await waitFor(() => lines.some((l) => l.msg === "request rejected"), 5_000, "the log line");
    const mine = lines.filter((l) => l.reqId === "trace-42");
    expect(mine.map((l) => l.msg)).toEqual(["incoming request", "request completed"]);
    expect(mine[1]).toMatchObject({ level: 30, res: { statusCode: 200 }, responseTime: expect.any(Number) });
    expect(lines.find((l) => l.msg === "request rejected")).toMatchObject({ status: NOT_WAV.status, reason: expect.stringMatching(NOT_WAV.detail) });
  });

  it("/openapi.json is generated from the zod schemas", async () => {
    const server = await start({}, { load: false });
    const doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required?: string[] } }> }; parameters?: { name: string; in: string }[] }>>;
    };
    expect(doc.openapi).toBe("3.0.3");
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/health",
        "/api/v1/backend",
        "/api/v1/transcribe",
        "/api/v1/transcribe/batch",
        "/api/v1/asr",
        "/asr",
        "/detect-language",
        "/v1/audio/transcriptions",
        "/v1/audio/translations",
        "/v1/models",
        "/v1/models/{model}",
        "/ready",
        "/metrics",
        "/api/v1/trans/url",
        "/api/v1/trans/video",
        "/api/v1/result",
        "/api/v1/jobs",
        "/api/v1/jobs/{id}",
        "/metrics/prometheus",
        "/",
        "/api/v1/transcribe/stream",
        "/api/v1/hotwords",
        "/api/v1/hotwords/append",
        "/api/v1/hotwords/reload",
        "/api/v1/hotwords/context",
        "/api/v1/hotwords/context/append",
        "/api/v1/hotwords/context/reload",
        "/config",
        "/config/all",
        "/config/reload",
      ].sort(),
    );
    const transcribe = doc.paths["/api/v1/transcribe"]!.post!.requestBody!.content["multipart/form-data"]!.schema;
    expect(transcribe.required).toEqual(["file"]);
    expect(transcribe.properties.file).toEqual({ type: "string", format: "binary", description: "The audio or video file" });
    expect(Object.keys(transcribe.properties)).toEqual(["file", "with_speaker", "apply_hotword", "hotwords", "asr_options"]);
    const asr = doc.paths["/asr"]!.post!;
    expect(asr.parameters!.filter((p) => p.in === "query").map((p) => p.name)).toEqual(["encode", "task", "language", "initial_prompt", "vad_filter", "word_timestamps", "output", "chinese_script"]);
    const openai = doc.paths["/v1/audio/transcriptions"]!.post!.requestBody!.content["multipart/form-data"]!.schema;
    expect(openai.properties["timestamp_granularities[]"]).toMatchObject({ type: "array" });
  });
});
