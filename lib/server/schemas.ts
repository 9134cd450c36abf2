// Error bodies shared by the routes' response schemas (and so by /openapi.json).
import { z } from "zod";

/** TingWu and whisper-asr-webservice errors (FastAPI's shape). */
export const detailError = z.object({ detail: z.string() }).meta({ description: "Error" });

/** OpenAI errors. */
export const openaiError = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
  })
  .meta({ description: "Error" });
