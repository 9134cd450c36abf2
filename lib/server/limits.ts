// How much of a request the server will hold, decided before the body is read:
//  - a declared Content-Length over the limit is answered 413 at once, and the connection is
//    closed rather than read to the end;
//  - requests that are not multipart (no route takes JSON) may carry at most 1 MiB;
//  - an upload takes its place in the inference queue before its body is buffered, so the memory
//    that uploads hold is bounded by (pool + queue) × WHISPER_MAX_UPLOAD_MB. A request refused
//    (503) at that point is drained, not buffered, so the client reads the answer.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { BODY_LIMITS } from "../limits.js";
import { bodyTooLarge, uploadTooLarge } from "./errors.js";
import type { Ticket } from "./queue.js";
import type { TranscriptionService } from "./service.js";

/** The most a request of this content type may declare. */
export function requestByteLimit(contentType: string | undefined, maxUploadBytes: number): number {
  return /^\s*multipart\/form-data/i.test(contentType ?? "") ? maxUploadBytes + BODY_LIMITS.formFieldsAllowance : BODY_LIMITS.nonMultipart;
}

/** onRequest hook: 413 for a declared Content-Length over the limit, before reading a byte of it. */
export function registerBodyLimits(app: FastifyInstance, maxUploadBytes: number): void {
  app.addHook("onRequest", async (request, reply) => {
    const declared = request.headers["content-length"];
    if (declared === undefined || !/^\d+$/.test(declared)) return;
    const contentType = request.headers["content-type"];
    const limit = requestByteLimit(contentType, maxUploadBytes);
    if (Number(declared) <= limit) return;
    // Reading the rest would take as long as the upload; close the connection after the answer.
    void reply.header("connection", "close");
    throw limit === BODY_LIMITS.nonMultipart ? bodyTooLarge() : uploadTooLarge(maxUploadBytes);
  });
}

interface Admission {
  ticket: Ticket;
  /** The handler took it over (and releases it); until then the hooks below do. */
  claimed: boolean;
}

const admissions = new WeakMap<FastifyRequest, Admission>();

/**
 * preParsing hook: a route that transcribes an upload (route config `transcribes`) takes its place
 * in the queue (or gets 503, or 503 while the model loads) before the multipart body is buffered. The handler
 * claims the ticket with {@link claimTicket}; a request that never reaches its handler (bad form,
 * client gone mid-upload) gives it back when its response ends or its connection closes.
 */
export function registerAdmission(app: FastifyInstance, service: TranscriptionService): void {
  app.addHook("preParsing", async (request, reply, payload) => {
    if (request.method !== "POST" || request.routeOptions.config?.transcribes !== true) return payload;
    const admission: Admission = { ticket: service.admit(), claimed: false };
    admissions.set(request, admission);
    const release = () => {
      if (!admission.claimed) admission.ticket.release();
    };
    reply.raw.once("close", release);
    return payload;
  });
  app.addHook("onResponse", async (request) => {
    const admission = admissions.get(request);
    if (admission && !admission.claimed) admission.ticket.release();
  });
}

/** The ticket this request was admitted with; the caller now releases it. Undefined if none. */
export function claimTicket(request: FastifyRequest): Ticket | undefined {
  const admission = admissions.get(request);
  if (!admission || admission.claimed) return undefined;
  admission.claimed = true;
  return admission.ticket;
}
