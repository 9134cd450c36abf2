// TingWu's service routes: GET / (its `{name, version, docs}` for API clients, our web page for
// browsers) and GET /metrics (its JSON MetricsResponse; Prometheus text is at /metrics/prometheus).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { summarizeMetrics } from "../../metrics.js";
import type { TranscriptionService } from "../../service.js";

/** The web page's folder: lib/server/web in the source tree, dist/server/web in the package. */
export const WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

/** The files the page is made of; nothing else in the folder is served. */
const WEB_FILES = { "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8" } as const;

/** True when the client prefers HTML (a browser's navigation), false for API clients (axios, curl, fetch). */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

const metricsResponse = z.object({
  uptime_seconds: z.number(),
  total_requests: z.number().int(),
  successful_requests: z.number().int(),
  failed_requests: z.number().int(),
  total_audio_seconds: z.number(),
  avg_rtf: z.number(),
  llm_cache_stats: z.record(z.string(), z.never()),
});

export const tingwuSystemRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService; version: string; startedAt: number }> = async (
  app,
  { service, version, startedAt },
) => {
  const config = { dialect: "tingwu" as const };
  const files = new Map(Object.entries(WEB_FILES).map(([name, type]) => [name, { type, body: fs.readFileSync(path.join(WEB_DIR, name), "utf8") }]));

  app.get(
    "/",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Service info (TingWu's shape); a browser (Accept: text/html) gets the web page instead",
        response: {
          200: {
            description: "JSON for API clients, the web page for browsers",
            content: {
              "application/json": { schema: z.object({ name: z.string(), version: z.string(), docs: z.literal("/docs") }) },
              "text/html": { schema: z.string() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      void reply.header("vary", "Accept");
      if (wantsHtml(request.headers.accept)) {
        const page = files.get("index.html")!;
        return reply.type(page.type).header("cache-control", "no-cache").send(page.body);
      }
      return { name: "tingwu-whisper", version, docs: "/docs" as const };
    },
  );

  app.get<{ Params: { file: string } }>("/web/:file", { config, schema: { hide: true } }, async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file || request.params.file === "index.html") return reply.code(404).send({ detail: "Not Found" });
    return reply.type(file.type).header("cache-control", "no-cache").send(file.body);
  });

  app.get(
    "/metrics",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Service counters in TingWu's MetricsResponse (Prometheus text: /metrics/prometheus)",
        response: { 200: metricsResponse },
      },
    },
    async () => summarizeMetrics(service.metrics, startedAt),
  );
};
