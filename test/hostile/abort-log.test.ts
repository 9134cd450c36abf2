// Defect 6 of issue 12: a client that aborted mid-upload was logged at error level with a stack.
import net from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, waitFor } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

const lines: { level: number; msg: string; err?: unknown }[] = [];
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, { app: { logger: { level: "debug", stream: { write: (line: string) => void lines.push(JSON.parse(line)) } } } });
});
afterAll(() => server?.close());

it("an upload cut off by its client is logged at info, without a stack", async () => {
  const port = Number(new URL(server.base).port);
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  socket.write(`POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 500000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
  socket.write(Buffer.alloc(50_000));
  await waitFor(() => server.app.tingwu.queue.admitted === 1, 10_000, "admission");
  socket.destroy();
  await waitFor(() => lines.some((l) => l.msg === "request aborted: the client went away"), 10_000, "the abort log line");
  expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  expect(lines.filter((l) => l.err !== undefined)).toEqual([]);
  await waitFor(() => server.app.tingwu.queue.admitted === 0, 10_000, "the ticket back");
});
