// GET /ws/realtime (TingWu's realtime protocol on the streaming engine) and GET /realtime (a
// minimal microphone page). Who may connect is decided in access.ts; each connection is a
// RealtimeSession.
import fs from "node:fs";
import path from "node:path";
import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { canStream } from "../../backends/types.js";
import type { ASRBackend } from "../../backends/types.js";
import { PACKAGE_ROOT } from "../../native.js";
import type { TranscriptionService } from "../service.js";
import { createKeyChecker, originAllowed, presentedKey } from "./access.js";
import { CLOSE } from "./protocol.js";
import { RealtimeSession } from "./session.js";

export const REALTIME_PAGE = path.join(PACKAGE_ROOT, "public", "realtime.html");

export async function realtimeRoutes(app: FastifyInstance, options: { service: TranscriptionService }): Promise<void> {
  const { service } = options;
  const settings = service.settings;
  await app.register(websocket, {
    options: { maxPayload: settings.realtimeMaxFrameBytes, perMessageDeflate: settings.wsCompression },
  });
  let open = 0;
  const keyAccepted = createKeyChecker(settings.apiKeys);

  app.get("/ws/realtime", { websocket: true, schema: { hide: true } }, (socket, request) => {
    // Refusals are sent as close frames after the upgrade: browsers show a close reason, never an HTTP status.
    const refuse = (code: number, why: string) => {
      request.log.info({ code, reason: why }, "realtime stream refused");
      socket.close(code, why);
    };
    const query = new URLSearchParams(request.url.split("?")[1] ?? "");
    if (!originAllowed(settings.corsOrigins, request.headers.origin)) return refuse(CLOSE.forbiddenOrigin, "Origin not allowed (CORS_ORIGINS)");
    if (!keyAccepted(presentedKey(request.headers, query))) return refuse(CLOSE.unauthorized, "Missing or invalid API key (api_key query parameter, Authorization: Bearer, or X-API-Key)");
    if (open >= settings.realtimeMaxStreams) return refuse(CLOSE.tryAgainLater, `Too many realtime streams: ${open} open (REALTIME_MAX_STREAMS=${settings.realtimeMaxStreams}); retry later`);
    let backend: ASRBackend;
    try {
      backend = service.backend();
    } catch (error) {
      return refuse(CLOSE.tryAgainLater, (error as Error).message.slice(0, 120));
    }
    if (!canStream(backend)) return refuse(CLOSE.streamingUnsupported, `The ${backend.type} backend has no real-time streaming`);
    open++;
    socket.once("close", () => open--);
    new RealtimeSession(socket, backend, settings, request.log).start();
  });

  app.get("/realtime", { schema: { hide: true } }, async (_request, reply) => {
    return reply.type("text/html; charset=utf-8").send(await fs.promises.readFile(REALTIME_PAGE));
  });
}
