// The routes TingWu's frontend calls besides transcription (Monitor, Hotwords, Config pages, and
// GET /), over a real socket with the scripted model: TingWu's exact shapes, persistence in
// DATA_DIR, and the stream the web page uses.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../lib/version.js";
import { wantsHtml } from "../../lib/server/routes/tingwu/system.js";
import { MUTABLE_CONFIG_KEYS } from "../../lib/server/runtime-config.js";
import { toSrt, toTxt, toVtt } from "../../lib/formats/subtitles.js";
import { HOTWORD_PROMPT_PREFIX, buildHotwordPrompt } from "../../lib/tingwu/hotwords.js";
import { HotwordStore } from "../../lib/tingwu/hotword-store.js";
import { form, postForm, SCRIPT_SENTENCES, SCRIPT_TEXT, startTestServer, wavFile } from "./helpers.js";
import type { TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const postJson = (url: string, body?: unknown) =>
  fetch(url, { method: "POST", ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }) });

describe("GET /", () => {
  it("answers API clients with TingWu's service info", async () => {
    for (const accept of [undefined, "application/json, text/plain, */*", "*/*"]) {
      const res = await fetch(`${server.base}/`, accept === undefined ? {} : { headers: { accept } });
      expect(res.status).toBe(200);
      expect(res.headers.get("vary")).toMatch(/Accept/i);
      expect(await res.json()).toEqual({ name: "tingwu-whisper", version: VERSION, docs: "/docs" });
    }
  });

  it("answers a browser with the web page, whose assets are served", async () => {
    const res = await fetch(`${server.base}/`, { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).toContain("<title>tingwu-whisper</title>");
    for (const [file, type] of [
      ["app.js", "text/javascript; charset=utf-8"],
      ["style.css", "text/css; charset=utf-8"],
    ] as const) {
      expect(html).toContain(`/web/${file}`);
      const asset = await fetch(`${server.base}/web/${file}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toBe(type);
    }
    expect((await fetch(`${server.base}/web/..%2Fapp.ts`)).status).toBe(404);
    expect((await fetch(`${server.base}/web/nothing.js`)).status).toBe(404);
  });

  it("decides by Accept", () => {
    expect(wantsHtml("text/html")).toBe(true);
    expect(wantsHtml("text/html;q=0.9, */*")).toBe(true);
    expect(wantsHtml("application/json, text/plain, */*")).toBe(false);
    expect(wantsHtml("text/htmlx")).toBe(false);
    expect(wantsHtml(undefined)).toBe(false);
  });
});

describe("GET /docs", () => {
  it("serves Swagger UI over /openapi.json's document", async () => {
    const res = await fetch(`${server.base}/docs/`, { redirect: "follow" });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/swagger-ui/i);
    const doc = (await (await fetch(`${server.base}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths["/api/v1/transcribe"]).toBeDefined();
  });
});

describe("GET /metrics (TingWu's MetricsResponse)", () => {
  it("counts transcriptions, audio seconds and the real-time factor", async () => {
    const own = await startTestServer();
    try {
      const before = (await (await fetch(`${own.base}/metrics`)).json()) as Record<string, number>;
      expect(before).toEqual({ uptime_seconds: expect.any(Number), total_requests: 0, successful_requests: 0, failed_requests: 0, total_audio_seconds: 0, avg_rtf: 0, llm_cache_stats: {} });
      for (let i = 0; i < 2; i++) expect((await postForm(`${own.base}/api/v1/transcribe`, form({ file: wavFile() }))).status).toBe(200);
      const res = await fetch(`${own.base}/metrics`);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const after = (await res.json()) as Record<string, number>;
      expect(after).toMatchObject({ total_requests: 2, successful_requests: 2, failed_requests: 0, total_audio_seconds: 8, llm_cache_stats: {} });
      expect(after.avg_rtf).toBeGreaterThan(0);
      expect(after.uptime_seconds).toBeGreaterThanOrEqual(before.uptime_seconds!);
      const prometheus = await fetch(`${own.base}/metrics/prometheus`);
      expect(prometheus.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(await prometheus.text()).toMatch(/^tingwu_whisper_audio_seconds_total 8$/m);
    } finally {
      await own.close();
    }
  });
});

describe("/api/v1/hotwords", () => {
  const file = (name: string) => path.join(server.settings.dataDir, "hotwords", name);

  it("replaces, appends, lists and persists both lists in TingWu's shapes", async () => {
    expect(await (await fetch(`${server.base}/api/v1/hotwords`)).json()).toEqual({ code: 0, hotwords: [], count: 0 });
    let res = await postJson(`${server.base}/api/v1/hotwords`, { hotwords: ["TingWu", " Kubernetes ", "", "TingWu"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 0, count: 2, message: "热词更新成功" });
    expect(fs.readFileSync(file("hotwords.txt"), "utf8")).toBe("TingWu\nKubernetes\n");
    res = await postJson(`${server.base}/api/v1/hotwords/append`, { hotwords: ["Kubernetes", "Whisper"] });
    expect(await res.json()).toEqual({ code: 0, count: 3, message: "追加了 2 个热词" });
    expect(await (await fetch(`${server.base}/api/v1/hotwords`)).json()).toEqual({ code: 0, hotwords: ["TingWu", "Kubernetes", "Whisper"], count: 3 });

    res = await postJson(`${server.base}/api/v1/hotwords/context`, { hotwords: ["听悟"] });
    expect(await res.json()).toEqual({ code: 0, count: 1, message: "上下文热词更新成功" });
    res = await postJson(`${server.base}/api/v1/hotwords/context/append`, { hotwords: ["听悟", "语音识别"] });
    expect(await res.json()).toEqual({ code: 0, count: 2, message: "追加了 1 个上下文热词" });
    expect(await (await fetch(`${server.base}/api/v1/hotwords/context`)).json()).toEqual({ code: 0, hotwords: ["听悟", "语音识别"], count: 2 });
    expect(fs.readFileSync(file("hotwords-context.txt"), "utf8")).toBe("听悟\n语音识别\n");
    // No temporary files are left behind by the atomic writes.
    expect(fs.readdirSync(path.dirname(file("x"))).sort()).toEqual(["hotwords-context.txt", "hotwords.txt"]);
  });

  it("reload picks up edits made on disk", async () => {
    fs.writeFileSync(file("hotwords.txt"), "# team words\nAlpha\n\nBeta\n");
    let res = await postJson(`${server.base}/api/v1/hotwords/reload`);
    expect(await res.json()).toEqual({ code: 0, count: 2, message: "热词重新加载成功" });
    expect(((await (await fetch(`${server.base}/api/v1/hotwords`)).json()) as { hotwords: string[] }).hotwords).toEqual(["Alpha", "Beta"]);
    fs.writeFileSync(file("hotwords-context.txt"), "Gamma\n");
    res = await postJson(`${server.base}/api/v1/hotwords/context/reload`);
    expect(await res.json()).toEqual({ code: 0, count: 1, message: "上下文热词重新加载成功" });
  });

  it("survives a restart (a new app on the same DATA_DIR)", async () => {
    const again = await startTestServer({ DATA_DIR: server.settings.dataDir }, { load: false });
    try {
      expect(((await (await fetch(`${again.base}/api/v1/hotwords`)).json()) as { hotwords: string[] }).hotwords).toEqual(["Alpha", "Beta"]);
    } finally {
      await again.app.close();
    }
  });

  it("refuses bad bodies with TingWu's error shape", async () => {
    for (const body of [{}, { hotwords: "Alpha" }, { hotwords: [1] }]) {
      const res = await postJson(`${server.base}/api/v1/hotwords`, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ detail: expect.stringMatching(/hotwords/) });
    }
    const res = await postJson(`${server.base}/api/v1/hotwords`, { hotwords: ["a\nb"] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: "Expected one line for hotwords[0] but it contains a line break" });
  });

  it("transcription uses them when apply_hotword (TingWu's default), and still gives the script", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile() }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toBe(SCRIPT_TEXT);
  });
});

describe("HotwordStore.promptHotwords (which hotwords reach the prompt)", () => {
  it("prefers the request's, else context then main list up to the maximum, unless disabled", async () => {
    const dir = fs.mkdtempSync(path.join(server.settings.dataDir, "store-"));
    const store = new HotwordStore(dir);
    await store.replace("hotwords", ["A", "B", "C"]);
    await store.replace("context", ["C", "D"]);
    expect(store.promptHotwords("Mine", { enabled: true, max: 50 })).toBe("Mine");
    expect(store.promptHotwords(undefined, { enabled: true, max: 50 })).toBe("C\nD\nA\nB");
    expect(store.promptHotwords("  ", { enabled: true, max: 3 })).toBe("C\nD\nA");
    expect(store.promptHotwords(undefined, { enabled: false, max: 50 })).toBeUndefined();
    expect(store.promptHotwords(undefined, { enabled: true, max: 0 })).toBeUndefined();
    expect(buildHotwordPrompt(store.promptHotwords(undefined, { enabled: true, max: 50 }))).toBe(`${HOTWORD_PROMPT_PREFIX}C, D, A, B`);
  });
});

describe("/config", () => {
  it("GET /config gives the writable settings; /config/all every setting and the writable keys", async () => {
    const own = await startTestServer({}, { load: false });
    try {
      expect(await (await fetch(`${own.base}/config`)).json()).toEqual({ config: { hotword_injection_enable: true, hotword_injection_max: 50, log_level: "silent" } });
      const all = (await (await fetch(`${own.base}/config/all`)).json()) as { config: Record<string, unknown>; mutable_keys: string[] };
      expect(all.mutable_keys).toEqual(MUTABLE_CONFIG_KEYS);
      expect(all.config).toMatchObject({
        app_name: "tingwu-whisper",
        version: VERSION,
        asr_backend: "whisper",
        whisper_model: own.settings.whisperModel,
        whisper_language: "zh",
        whisper_threads: 2,
        data_dir: own.settings.dataDir,
        whisper_model_sha256: null,
        hotword_injection_enable: true,
      });
    } finally {
      await own.close();
    }
  });

  it("POST /config changes and persists the writable keys; reload re-reads config.json", async () => {
    const own = await startTestServer({}, { load: false });
    try {
      let res = await postJson(`${own.base}/config`, { updates: { hotword_injection_max: 10, log_level: "warn" } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ config: { hotword_injection_enable: true, hotword_injection_max: 10, log_level: "warn" } });
      expect(own.app.log.level).toBe("warn");
      const stored = path.join(own.settings.dataDir, "config.json");
      expect(JSON.parse(fs.readFileSync(stored, "utf8"))).toEqual({ hotword_injection_enable: true, hotword_injection_max: 10, log_level: "warn" });

      fs.writeFileSync(stored, JSON.stringify({ hotword_injection_enable: false, hotword_injection_max: 10, log_level: "silent" }));
      res = await postJson(`${own.base}/config/reload`);
      expect(await res.json()).toEqual({ status: "success", message: "Engine reloaded" });
      expect(((await (await fetch(`${own.base}/config`)).json()) as { config: unknown }).config).toEqual({ hotword_injection_enable: false, hotword_injection_max: 10, log_level: "silent" });
    } finally {
      await own.close();
    }
  });

  it("refuses read-only, unknown and ill-typed updates with a clear 400 and changes nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ whisper_model: "tiny" }, "whisper_model is read-only: it is set from the environment (WHISPER_MODEL) at start-up; writable keys: hotword_injection_enable, hotword_injection_max, log_level"],
      [{ llm_enable: true }, "llm_enable is not a setting of this service; writable keys: hotword_injection_enable, hotword_injection_max, log_level"],
      [{ hotword_injection_max: 51 }, "Invalid value for hotword_injection_max: expected an integer between 0 and 50 but received 51"],
      [{ hotword_injection_enable: "yes" }, 'Invalid value for hotword_injection_enable: expected a boolean but received "yes"'],
      [{ hotword_injection_max: 5, log_level: "loud" }, 'Invalid value for log_level: expected one of fatal, error, warn, info, debug, trace, silent but received "loud"'],
    ];
    const before = await (await fetch(`${server.base}/config`)).json();
    for (const [updates, detail] of cases) {
      const res = await postJson(`${server.base}/config`, { updates });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ detail });
    }
    expect(await (await fetch(`${server.base}/config`)).json()).toEqual(before);
    expect((await postJson(`${server.base}/config`, { hotwords: [] })).status).toBe(400);
  });
});

describe("POST /api/v1/transcribe/stream (the web page's)", () => {
  it("sends progress, each segment, the subtitle files and TingWu's result", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe/stream`, form({ file: wavFile(), hotwords: "TingWu" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = (await res.text())
      .split("\n\n")
      .filter(Boolean)
      .map((block) => {
        const [event, data] = block.split("\n");
        return { event: event!.replace(/^event: /, ""), data: JSON.parse(data!.replace(/^data: /, "")) as unknown };
      });
    const segments = events.filter((e) => e.event === "segment").map((e) => e.data);
    expect(segments).toEqual(SCRIPT_SENTENCES);
    const progress = events.filter((e) => e.event === "progress").map((e) => (e.data as { progress: number }).progress);
    expect(progress.length).toBeGreaterThan(0);
    expect(events.at(-2)!.event).toBe("files");
    expect(events.at(-2)!.data).toEqual({ srt: toSrt(SCRIPT_SENTENCES), vtt: toVtt(SCRIPT_SENTENCES), txt: toTxt(SCRIPT_SENTENCES) });
    expect(toSrt(SCRIPT_SENTENCES)).toMatch(/^1\n00:00:00,400 --> 00:00:01,800\n/);
    expect(events.at(-1)).toEqual({
      event: "result",
      data: { code: 0, text: SCRIPT_TEXT, text_accu: null, sentences: SCRIPT_SENTENCES.map((s) => ({ ...s, speaker: null, speaker_id: null })), speaker_turns: null, transcript: null, raw_text: SCRIPT_TEXT },
    });
  });

  it("answers form errors as plain JSON before streaming", async () => {
    const res = await postForm(`${server.base}/api/v1/transcribe/stream`, form({ hotwords: "x" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: expect.stringMatching(/file/) });
  });
});
