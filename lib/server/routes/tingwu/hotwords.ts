// TingWu's hotword management (/api/v1/hotwords and /api/v1/hotwords/context), with its shapes:
// the lists live in files under DATA_DIR and are merged into the prompt of requests that don't
// bring their own hotwords (see HotwordStore.promptHotwords).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { HOTWORD_FILES } from "../../../tingwu/hotword-store.js";
import type { HotwordList, HotwordStore } from "../../../tingwu/hotword-store.js";
import { HttpError } from "../../errors.js";
import { detailError } from "../../schemas.js";

const listResponse = z.object({ code: z.literal(0), hotwords: z.array(z.string()), count: z.number().int() });
const updateRequest = z.object({ hotwords: z.array(z.string()).meta({ description: "Hotwords, one term per element" }) });
const updateResponse = z.object({ code: z.literal(0), count: z.number().int(), message: z.string() });

/** JSON bodies of these routes are small; a list of 10000 terms fits in 4 MiB. */
const BODY_LIMIT = 4 * 1024 * 1024;

// TingWu's messages, word for word ("hotwords updated", "appended N hotwords", ...).
const MESSAGES: Record<HotwordList, { updated: string; appended: (n: number) => string; reloaded: string; label: string }> = {
  hotwords: { updated: "热词更新成功", appended: (n) => `追加了 ${n} 个热词`, reloaded: "热词重新加载成功", label: "hotwords" },
  context: { updated: "上下文热词更新成功", appended: (n) => `追加了 ${n} 个上下文热词`, reloaded: "上下文热词重新加载成功", label: "context hotwords (prompt only)" },
};

/** Validation errors of the store (too many terms, a line break in a term) are the client's. */
function clientError(error: unknown): never {
  if (error instanceof TypeError || error instanceof RangeError) throw new HttpError(400, error.message, { code: "invalid_value", param: "hotwords" });
  throw error;
}

export const tingwuHotwordRoutes: FastifyPluginAsyncZod<{ hotwords: HotwordStore }> = async (app, { hotwords: store }) => {
  const config = { dialect: "tingwu" as const };
  const errors = { 400: detailError, 500: detailError };

  for (const list of ["hotwords", "context"] as const) {
    const base = list === "hotwords" ? "/api/v1/hotwords" : "/api/v1/hotwords/context";
    const { label } = MESSAGES[list];
    const tags = ["tingwu"];

    app.get(base, { config, schema: { tags, summary: `The ${label}`, response: { 200: listResponse } } }, async () => {
      const terms = store.list(list);
      return { code: 0 as const, hotwords: terms, count: terms.length };
    });

    app.post(
      base,
      { config, bodyLimit: BODY_LIMIT, schema: { tags, summary: `Replace the ${label} (written to DATA_DIR/hotwords/${HOTWORD_FILES[list]})`, body: updateRequest, response: { 200: updateResponse, ...errors } } },
      async (request) => {
        const count = await store.replace(list, request.body.hotwords).catch(clientError);
        return { code: 0 as const, count, message: MESSAGES[list].updated };
      },
    );

    app.post(
      `${base}/append`,
      { config, bodyLimit: BODY_LIMIT, schema: { tags, summary: `Add to the ${label}, keeping the current ones`, body: updateRequest, response: { 200: updateResponse, ...errors } } },
      async (request) => {
        const { added, count } = await store.append(list, request.body.hotwords).catch(clientError);
        // TingWu counts the request's terms for the main list and the new ones for the context list.
        return { code: 0 as const, count, message: MESSAGES[list].appended(list === "hotwords" ? request.body.hotwords.length : added) };
      },
    );

    app.post(
      `${base}/reload`,
      { config, schema: { tags, summary: `Read the ${label} again from DATA_DIR/hotwords/${HOTWORD_FILES[list]} (picks up edits made on disk)`, response: { 200: updateResponse, ...errors } } },
      async () => ({ code: 0 as const, count: await store.reload(list), message: MESSAGES[list].reloaded }),
    );
  }
};
