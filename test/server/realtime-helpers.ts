// A /ws/realtime client for tests: every message kept in order, awaited one by one.
import WebSocket from "ws";
import { float32ToPcm16 } from "../../lib/audio/pcm.js";
import { makeAudio } from "../fixtures/models.js";

export interface Received {
  [key: string]: unknown;
}

export interface RealtimeClient {
  ws: WebSocket;
  /** The next message not taken yet (JSON), waiting up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<Received>;
  /** Messages received and not taken yet. */
  buffered(): Received[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  sendJson(data: object): void;
}

export function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<RealtimeClient> {
  const ws = new WebSocket(url, options);
  const queue: Received[] = [];
  const waiters: ((m: Received) => void)[] = [];
  ws.on("message", (data, isBinary) => {
    const message = isBinary ? { binary: true } : (JSON.parse(data.toString()) as Received);
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () =>
      resolve({
        ws,
        closed,
        buffered: () => [...queue],
        sendJson: (data) => ws.send(JSON.stringify(data)),
        next: (timeoutMs = 300_000) => {
          const ready = queue.shift();
          if (ready) return Promise.resolve(ready);
          return new Promise<Received>((res, rej) => {
            const timer = setTimeout(() => rej(new Error("timed out waiting for a realtime message")), timeoutMs);
            const onClose = () => rej(new Error("the socket closed while a message was awaited"));
            ws.once("close", onClose);
            waiters.push((m) => {
              clearTimeout(timer);
              ws.off("close", onClose);
              res(m);
            });
          });
        },
      }),
    );
  });
}

/** `seconds` of the fixture audio as PCM16LE, cut in 1 s frames. */
export function pcmSeconds(seconds: number): Buffer[] {
  const pcm = float32ToPcm16(makeAudio(seconds));
  const frames: Buffer[] = [];
  for (let i = 0; i < pcm.length; i += 32_000) frames.push(pcm.subarray(i, i + 32_000));
  return frames;
}

export const wsUrl = (base: string, path = "/ws/realtime") => base.replace(/^http/, "ws") + path;
