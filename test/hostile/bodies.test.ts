// Defects 4 and 5 of issue 12: an 88 MB JSON body was read and parsed (8 s, event loop blocked,
// 950 MB RSS); uploads were buffered whole before the queue decided; a declared 300 MB
// Content-Length was read to the end. Now: 1 MiB for anything not multipart, 413 from the header
// alone, and admission before buffering (refused uploads are drained, not held).
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { form, NOT_WAV, postForm, startTestServer } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ WHISPER_POOL_SIZE: "1", WHISPER_QUEUE_SIZE: "2", WHISPER_MAX_UPLOAD_MB: "40" });
});
afterAll(() => server?.close());

/** Sends only the request head on a raw socket and returns the status line that comes back. */
function headOnly(port: number, head: string): Promise<{ status: string; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let received = "";
    socket.setTimeout(20_000, () => socket.destroy(new Error("no answer within 20 s")));
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      if (received.includes("\r\n")) {
        resolve({ status: received.slice(0, received.indexOf("\r\n")), elapsedMs: performance.now() - started });
        socket.destroy();
      }
    });
    socket.on("error", reject);
  });
}

describe("request bodies", () => {
  it("a declared Content-Length of 300 MB is 413 before any of the body is sent", async () => {
    const port = Number(new URL(server.base).port);
    const head = `POST /api/v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${300 * 1024 * 1024}\r\n\r\n`;
    const { status } = await headOnly(port, head);
    expect(status).toBe("HTTP/1.1 413 Payload Too Large");
    const json = `POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${88 * 1024 * 1024}\r\n\r\n`;
    expect((await headOnly(port, json)).status).toBe("HTTP/1.1 413 Payload Too Large");
  });

  it("a 5 MB JSON body is 413 without being parsed, and the event loop stays free", async () => {
    const body = JSON.stringify({ file: "x".repeat(5 * 1024 * 1024) });
    const [response, health] = await Promise.all([
      fetch(`${server.base}/api/v1/transcribe`, { method: "POST", headers: { "content-type": "application/json" }, body }),
      fetch(`${server.base}/health`).then((r) => r.status),
    ]);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: "The request body is larger than the limit of 1 MB for requests that are not multipart/form-data (send audio as a multipart upload)" });
    expect(health).toBe(200);
  });

  it("6 concurrent 20 MB uploads at capacity 3: 3 are admitted before buffering, 3 get 503 and are drained", async () => {
    const junk = Buffer.alloc(20 * 1024 * 1024, 0x5a); // not audio: the admitted ones fail to decode
    const before = server.app.tingwu.metrics.rejected.get();
    const responses = await Promise.all(Array.from({ length: 6 }, () => postForm(`${server.base}/api/v1/transcribe`, form({ file: junk }))));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(3).fill(NOT_WAV.status), 503, 503, 503].sort());
    for (const r of responses.filter((x) => x.status === 503)) {
      expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(((await r.json()) as { detail: string }).detail).toMatch(/^The server is busy: /);
    }
    expect(server.app.tingwu.metrics.rejected.get() - before).toBe(3);
    expect(server.app.tingwu.queue.admitted).toBe(0);
  });

  it("a client that leaves mid-upload gives its queue place back", async () => {
    const port = Number(new URL(server.base).port);
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`POST /api/v1/transcribe HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
    socket.write(Buffer.alloc(10_000));
    const deadline = Date.now() + 10_000;
    while (server.app.tingwu.queue.admitted === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.app.tingwu.queue.admitted).toBe(1);
    socket.destroy();
    while (server.app.tingwu.queue.admitted !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.app.tingwu.queue.admitted).toBe(0);
  });
});
