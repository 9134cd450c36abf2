// Operator routes: readiness, Prometheus metrics and the OpenAPI document. (TingWu's JSON /metrics
// is in routes/tingwu/system.ts.)
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics.js";
import type { TranscriptionService } from "../service.js";

export const systemRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService }> = async (app, { service }) => {
  app.get(
    "/ready",
    {
      schema: {
        tags: ["system"],
        summary: "Readiness: 200 once the model is loaded, 503 while it loads or after its load failed",
        response: {
          200: z.object({ status: z.literal("ready"), model: z.string() }),
          503: z.object({ status: z.enum(["idle", "loading", "failed"]), model: z.string(), error: z.string().optional() }),
        },
      },
    },
    async (_request, reply) => {
      const { state, error } = service.manager;
      const model = service.settings.whisperModel;
      if (state === "ready") return { status: "ready" as const, model };
      return reply.code(503).send({ status: state, model, ...(state === "failed" ? { error: (error as Error | undefined)?.message ?? String(error) } : {}) });
    },
  );

  app.get(
    "/metrics/prometheus",
    {
      schema: {
        tags: ["system"],
        summary: "Prometheus metrics (TingWu's path): requests, durations, queue depth, audio seconds, real-time factor",
        response: { 200: { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: z.string() } } } },
      },
    },
    async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(service.metrics.registry.render()),
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};
