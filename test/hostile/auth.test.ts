// API_KEYS and CORS_ORIGINS (issue 12): keys in each dialect's 401 shape, the probes open, the
// official OpenAI client working with apiKey, and CORS that never allows credentials.
import OpenAI, { AuthenticationError, toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyChecker, OPEN_ROUTES } from "../../lib/server/auth.js";
import { form, postForm, SCRIPT_TEXT, startTestServer, wavFile } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

const KEYS = "key-one,sk-second-key";

describe("API_KEYS", () => {
  let server: TestServer;
  const logs: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({ API_KEYS: KEYS }, { app: { logger: { level: "debug", stream: { write: (line: string) => void logs.push(line) } } } });
  });
  afterAll(() => server?.close());

  it("the key checker", () => {
    const check = createKeyChecker(["a", "bb"]);
    expect([check("a"), check("bb"), check("b"), check(""), check(undefined), check("a ")]).toEqual([true, true, false, false, false, false]);
    expect(createKeyChecker([])(undefined)).toBe(true);
    expect(OPEN_ROUTES).toEqual(["/health", "/ready", "/", "/realtime", "/ws/realtime"]);
  });

  it("401 without a key, in each dialect's shape; /health and /ready stay open", async () => {
    let response = await fetch(`${server.base}/api/v1/backend`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="tingwu-whisper"');
    expect(await response.json()).toEqual({ detail: "Missing API key: send Authorization: Bearer <key> or X-API-Key: <key>" });
    response = await postForm(`${server.base}/asr`, form({ audio_file: wavFile() }));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: "Missing API key: send Authorization: Bearer <key> or X-API-Key: <key>" });
    response = await fetch(`${server.base}/v1/models`, { headers: { authorization: "Bearer wrong" } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: "Invalid API key", type: "authentication_error", param: null, code: "invalid_api_key" } });
    expect((await fetch(`${server.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    expect((await fetch(`${server.base}/ready`)).status).toBe(200);
  });

  it("the web page and Swagger UI load without a key; the API they call does not", async () => {
    const html = { headers: { accept: "text/html" } };
    expect((await fetch(`${server.base}/`, html)).status).toBe(200);
    expect((await fetch(`${server.base}/web/app.js`)).status).toBe(200);
    expect((await fetch(`${server.base}/docs/`)).status).toBe(200);
    expect((await fetch(`${server.base}/config`)).status).toBe(401);
    expect((await fetch(`${server.base}/api/v1/hotwords`)).status).toBe(401);
  });

  it("Bearer and X-API-Key are accepted", async () => {
    expect((await fetch(`${server.base}/api/v1/backend`, { headers: { authorization: "Bearer sk-second-key" } })).status).toBe(200);
    expect((await fetch(`${server.base}/api/v1/backend`, { headers: { "x-api-key": "key-one" } })).status).toBe(200);
    const response = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavFile() }), { headers: { "x-api-key": "key-one" } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { text: string }).text).toBe(SCRIPT_TEXT);
  });

  it("the official openai client with apiKey", async () => {
    const client = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: "key-one", maxRetries: 0 });
    const result = await client.audio.transcriptions.create({ file: await toFile(wavFile(), "speech.wav", { type: "audio/wav" }), model: "whisper-1" });
    expect(result.text).toBe(SCRIPT_TEXT);
    const wrong = new OpenAI({ baseURL: `${server.base}/v1`, apiKey: "nope", maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("keys never reach the log", () => {
    const text = logs.join("");
    expect(text.length).toBeGreaterThan(0);
    for (const key of [...KEYS.split(","), "nope", "wrong"]) expect(text).not.toContain(key);
  });
});

describe("CORS", () => {
  it("default *: any origin, never credentials; preflights pass without a key", async () => {
    const server = await startTestServer({ API_KEYS: "k" });
    try {
      const response = await fetch(`${server.base}/health`, { headers: { origin: "https://tingwu.example" } });
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      const preflight = await fetch(`${server.base}/v1/audio/transcriptions`, {
        method: "OPTIONS",
        headers: { origin: "https://tingwu.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
      expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    } finally {
      await server.close();
    }
  });

  it("CORS_ORIGINS: listed origins only, never credentials", async () => {
    const server = await startTestServer({ CORS_ORIGINS: "https://a.example, http://localhost:5173" });
    try {
      const allowed = await fetch(`${server.base}/health`, { headers: { origin: "http://localhost:5173" } });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
      const other = await fetch(`${server.base}/health`, { headers: { origin: "https://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await server.close();
    }
  });
});
