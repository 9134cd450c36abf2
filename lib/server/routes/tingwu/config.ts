// TingWu's config routes: GET /config (the writable values), GET /config/all (every setting and
// which are writable), POST /config ({updates}), POST /config/reload (re-read DATA_DIR's files).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { HotwordStore } from "../../../tingwu/hotword-store.js";
import { HttpError } from "../../errors.js";
import { ConfigUpdateError, MUTABLE_CONFIG_KEYS, settingsAsConfig } from "../../runtime-config.js";
import type { RuntimeConfig } from "../../runtime-config.js";
import type { TranscriptionService } from "../../service.js";
import { detailError } from "../../schemas.js";

const configResponse = z.object({ config: z.record(z.string(), z.unknown()) });

export const tingwuConfigRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService; runtime: RuntimeConfig; hotwords: HotwordStore; version: string }> = async (
  app,
  { service, runtime, hotwords, version },
) => {
  const config = { dialect: "tingwu" as const };
  const tags = ["tingwu"];

  app.get(
    "/config",
    { config, schema: { tags, summary: `The settings that can change at runtime (${MUTABLE_CONFIG_KEYS.join(", ")})`, response: { 200: configResponse } } },
    async () => ({ config: runtime.values }),
  );

  app.get(
    "/config/all",
    {
      config,
      schema: {
        tags,
        summary: "Every setting: the environment's (read-only) and the runtime ones",
        response: { 200: z.object({ config: z.record(z.string(), z.unknown()), mutable_keys: z.array(z.string()) }) },
      },
    },
    async () => ({
      config: { app_name: "tingwu-whisper", version, ...settingsAsConfig(service.settings), ...runtime.values },
      mutable_keys: [...MUTABLE_CONFIG_KEYS],
    }),
  );

  app.post(
    "/config",
    {
      config,
      bodyLimit: 64 * 1024,
      schema: {
        tags,
        summary: "Change runtime settings (persisted in DATA_DIR/config.json); a read-only or unknown key, or a bad value, is a 400 and nothing changes",
        body: z.object({ updates: z.record(z.string(), z.unknown()) }),
        response: { 200: configResponse, 400: detailError },
      },
    },
    async (request) => {
      try {
        const values = await runtime.update(request.body.updates);
        request.log.info({ updates: request.body.updates }, "runtime config updated");
        return { config: values };
      } catch (error) {
        if (error instanceof ConfigUpdateError) throw new HttpError(400, error.message, { code: "invalid_value", param: "updates" });
        throw error;
      }
    },
  );

  app.post(
    "/config/reload",
    {
      config,
      schema: {
        tags,
        summary: "Read DATA_DIR/config.json and both hotword lists again",
        response: { 200: z.object({ status: z.literal("success"), message: z.string() }), 500: detailError },
      },
    },
    async (request) => {
      await runtime.reload((message) => request.log.warn(message));
      await hotwords.loadAll();
      return { status: "success" as const, message: "Engine reloaded" };
    },
  );
};
