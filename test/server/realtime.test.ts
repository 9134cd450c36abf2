// /ws/realtime against the scripted model: TingWu's protocol field by field, with exact partial and
// final sequences, and every way a connection can end badly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhisperBackend } from "../../lib/backends/whisper.js";
import { startTestServer, waitFor } from "./helpers.js";
import type { TestServer } from "./helpers.js";
import { connect, pcmSeconds, wsUrl } from "./realtime-helpers.js";
import type { RealtimeClient } from "./realtime-helpers.js";

const QUIET = { WS_HEARTBEAT_INTERVAL: "0", WS_HEARTBEAT_TIMEOUT: "0" };
const HELLO = "Hello world, this is TingWu.";
const NIHAO = "你好，世界。";

/** Sends 1 s frames, waiting for the partial each one produces (so every decode covers exactly k s). */
async function speak(client: RealtimeClient, seconds: number): Promise<unknown[]> {
  const partials: unknown[] = [];
  for (const frame of pcmSeconds(seconds)) {
    client.ws.send(frame);
    partials.push(await client.next());
  }
  return partials;
}

describe("/ws/realtime (TingWu protocol)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(QUIET);
  }, 300_000);
  afterAll(async () => server?.close());

  it("says connected with TingWu's config fields, then streams 2pass partials and an offline-quality final", async () => {
    const client = await connect(wsUrl(server.base));
    const connected = await client.next();
    expect(connected).toMatchObject({ type: "connected", config: { chunk_size: 9600, heartbeat_interval: 0, compression: true, sample_rate: 16000, format: "pcm_s16le" } });
    expect(connected.connection_id).toMatch(/^[0-9a-f-]{36}$/);

    client.sendJson({ is_speaking: true, mode: "2pass", hotwords: "TingWu", chunk_interval: 10 });
    const partials = await speak(client, 4);
    expect(partials).toEqual([
      { mode: "2pass-online", is_final: false, text: "Hello world, this", stable: "", unstable: "Hello world, this" },
      { mode: "2pass-online", is_final: false, text: "Hello world, this is TingWu.", stable: "Hello world, this", unstable: " is TingWu." },
      { mode: "2pass-online", is_final: false, text: `${HELLO} ${NIHAO}`, stable: HELLO, unstable: ` ${NIHAO}` },
      { mode: "2pass-online", is_final: false, text: `${HELLO} ${NIHAO}`, stable: `${HELLO} ${NIHAO}`, unstable: "" },
    ]);
    client.sendJson({ is_speaking: false });
    expect(await client.next()).toEqual({
      mode: "2pass-offline",
      text: `${HELLO} ${NIHAO}`,
      is_final: true,
      language: "zh",
      sentence_info: [
        { text: HELLO, start: 400, end: 1800 },
        { text: NIHAO, start: 2000, end: 3600 },
      ],
    });

    // The state is reset: the next utterance starts from nothing, and its times from its own start.
    client.sendJson({ is_speaking: true });
    expect((await speak(client, 1))[0]).toMatchObject({ mode: "2pass-online", text: "Hello world, this", stable: "" });
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
  }, 600_000);

  it("online mode labels partials and the final 'online'; offline mode sends only the final", async () => {
    const online = await connect(wsUrl(server.base));
    await online.next();
    online.sendJson({ is_speaking: true, mode: "online" });
    const partials = await speak(online, 2);
    expect(partials.map((p) => (p as { mode: string }).mode)).toEqual(["online", "online"]);
    online.sendJson({ is_speaking: false });
    expect(await online.next()).toMatchObject({ mode: "online", is_final: true, text: HELLO });
    online.ws.close();

    const offline = await connect(wsUrl(server.base));
    await offline.next();
    offline.sendJson({ is_speaking: true, mode: "offline" });
    for (const frame of pcmSeconds(4)) offline.ws.send(frame);
    offline.sendJson({ is_speaking: false });
    expect(await offline.next()).toEqual({
      mode: "offline",
      text: `${HELLO} ${NIHAO}`,
      is_final: true,
      language: "zh",
      sentence_info: [
        { text: HELLO, start: 400, end: 1800 },
        { text: NIHAO, start: 2000, end: 3600 },
      ],
    });
    expect(offline.buffered()).toEqual([]);
    offline.ws.close();
  }, 600_000);

  it("serves the microphone page at /realtime", async () => {
    const response = await fetch(`${server.base}/realtime`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await response.text();
    expect(html).toContain("/ws/realtime");
    expect(html).toContain("is_speaking: true");
  });

  it("answers a client ping with a pong, ignores TingWu's cancel_llm, and ends an utterance without audio", async () => {
    const client = await connect(wsUrl(server.base));
    await client.next();
    client.sendJson({ type: "cancel_llm" });
    client.sendJson({ type: "ping" });
    expect(await client.next()).toMatchObject({ type: "pong" });
    // An utterance without audio ends with an empty final; a second is_speaking:false has nothing to end.
    client.sendJson({ is_speaking: true, mode: "offline" });
    client.sendJson({ is_speaking: false });
    client.sendJson({ is_speaking: false });
    client.sendJson({ type: "ping" });
    expect(await client.next()).toEqual({ mode: "offline", text: "", is_final: true, sentence_info: [] });
    expect(await client.next()).toMatchObject({ type: "pong" });
    client.ws.close();
  });

  it.each([
    ["an odd byte count", (c: RealtimeClient) => c.ws.send(Buffer.alloc(3)), 1007, /whole 16-bit samples.*3 bytes/],
    ["text that is not JSON where audio is expected", (c: RealtimeClient) => c.ws.send("\u0001\u0002 raw"), 1003, /JSON object.*PCM16LE audio as binary/],
    ["a JSON array", (c: RealtimeClient) => c.ws.send("[1,2]"), 1003, /JSON object/],
    ["an unknown mode", (c: RealtimeClient) => c.sendJson({ mode: "fast" }), 1007, /"2pass", "online" or "offline" for mode/],
    ["is_speaking that is not a boolean", (c: RealtimeClient) => c.sendJson({ is_speaking: "yes" }), 1007, /true or false for is_speaking/],
    ["an unknown language", (c: RealtimeClient) => c.sendJson({ language: "klingon" }), 1007, /language/],
  ])("closes on %s with a clear code and reason", async (_name, send, code, reason) => {
    const client = await connect(wsUrl(server.base));
    await client.next();
    send(client);
    const closed = await client.closed;
    expect(closed.code).toBe(code);
    expect(closed.reason).toMatch(reason);
  });

  it("stops the work of a client that disconnects mid-stream", async () => {
    const whisper = (server.manager.backendInstance as WhisperBackend).whisper;
    const client = await connect(wsUrl(server.base));
    await client.next();
    client.sendJson({ is_speaking: true });
    for (const frame of pcmSeconds(3)) client.ws.send(frame);
    await waitFor(() => whisper.active > 0, 30_000, "a decode to start");
    client.ws.terminate();
    // The running decode is aborted and nothing new starts.
    await waitFor(() => whisper.active === 0 && whisper.queued === 0, 30_000, "the decode to stop");
    await new Promise((r) => setTimeout(r, 300));
    expect(whisper.active).toBe(0);
  }, 300_000);
});

describe("/ws/realtime limits, heartbeat and access", () => {
  it("sends pings, keeps a client that answers, and closes one that doesn't with 4408", async () => {
    const server = await startTestServer({ WS_HEARTBEAT_INTERVAL: "0.25", WS_HEARTBEAT_TIMEOUT: "3" });
    try {
      const polite = await connect(wsUrl(server.base));
      const silent = await connect(wsUrl(server.base));
      expect(await polite.next()).toMatchObject({ type: "connected", config: { heartbeat_interval: 0.25 } });
      expect(await silent.next()).toMatchObject({ type: "connected" });
      const ping = await polite.next();
      expect(ping).toMatchObject({ type: "ping" });
      expect(typeof ping.timestamp).toBe("number");
      polite.ws.on("message", (data) => {
        if (JSON.parse(data.toString()).type === "ping") polite.sendJson({ type: "pong" });
      });
      polite.sendJson({ type: "pong" });
      const closed = await silent.closed;
      expect(closed).toEqual({ code: 4408, reason: expect.stringMatching(/^Heartbeat timeout: no message for 3 s/) });
      await new Promise((r) => setTimeout(r, 3500));
      expect(polite.ws.readyState).toBe(polite.ws.OPEN);
      polite.ws.close();
    } finally {
      await server.close();
    }
  }, 300_000);

  it("closes oversized frames (1009), streams past their length (4413) and streams beyond the server's limit (1013)", async () => {
    const server = await startTestServer({ ...QUIET, REALTIME_MAX_FRAME_BYTES: "4000", REALTIME_MAX_STREAM_SECONDS: "0.2", REALTIME_MAX_STREAMS: "1" });
    try {
      const long = await connect(wsUrl(server.base));
      expect(await long.next()).toMatchObject({ type: "connected" });
      const second = await connect(wsUrl(server.base));
      expect(await second.closed).toEqual({ code: 1013, reason: expect.stringMatching(/Too many realtime streams: 1 open \(REALTIME_MAX_STREAMS=1\)/) });
      for (let i = 0; i < 3; i++) long.ws.send(Buffer.alloc(3200));
      expect(await long.closed).toEqual({ code: 4413, reason: expect.stringMatching(/0.2 s of audio per connection/) });

      // Once the server has seen that close, the place is free again: an oversized frame there gets 1009.
      let big: RealtimeClient | undefined;
      await waitFor(async () => {
        const client = await connect(wsUrl(server.base));
        const first = await Promise.race([client.next(30_000).catch(() => undefined), client.closed]);
        if ((first as { type?: string } | undefined)?.type === "connected") big = client;
        else client.ws.close();
        return big !== undefined;
      }, 60_000, "a free stream slot");
      big!.ws.send(Buffer.alloc(4002));
      expect((await big!.closed).code).toBe(1009);
    } finally {
      await server.close();
    }
  }, 300_000);

  it("asks for the API key (query, Bearer or X-API-Key) and checks the Origin against CORS_ORIGINS", async () => {
    const server = await startTestServer({ ...QUIET, API_KEYS: "k-one, k-two", CORS_ORIGINS: "https://app.example.com" });
    try {
      const url = wsUrl(server.base);
      expect(await (await connect(url)).closed).toEqual({ code: 4401, reason: expect.stringMatching(/API key/) });
      expect((await (await connect(`${url}?api_key=wrong`)).closed).code).toBe(4401);
      for (const client of [
        await connect(`${url}?api_key=k-two`),
        await connect(url, { headers: { authorization: "Bearer k-one" } }),
        await connect(url, { headers: { "x-api-key": "k-two" }, origin: "https://app.example.com" }),
      ]) {
        expect(await client.next()).toMatchObject({ type: "connected" });
        client.ws.close();
      }
      const foreign = await connect(`${url}?api_key=k-one`, { origin: "https://evil.example.com" });
      expect(await foreign.closed).toEqual({ code: 4403, reason: "Origin not allowed (CORS_ORIGINS)" });
    } finally {
      await server.close();
    }
  }, 300_000);

  it("refuses streams with 1013 while the model is not loaded", async () => {
    const server = await startTestServer(QUIET, { load: false });
    try {
      const client = await connect(wsUrl(server.base));
      expect(await client.closed).toEqual({ code: 1013, reason: expect.stringMatching(/model is loading/) });
    } finally {
      await server.close();
    }
  });
});
