// The webhook a job may ask for: one POST of `{id, state, error?, result?}` when it ends, signed
// when JOB_WEBHOOK_SECRET is set, retried a few times on failure. Receivers deduplicate by `id`
// (a worker that dies right after a job may not deliver; one that retries may deliver twice).
import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { guardedRequest } from "./fetch-url.js";
import type { JobInfo } from "./types.js";
import { renderResult } from "./render.js";

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "x-tingwu-signature";
const DELAYS_MS = [1000, 5000, 15_000];

/** The signature header's value for `body` at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The webhook body of a final job. */
export function webhookBody(job: JobInfo): string {
  return JSON.stringify({
    id: job.id,
    state: job.state,
    ...(job.error !== undefined ? { error: job.error } : {}),
    ...(job.result ? { result: renderResult(job.result, job.format) } : {}),
  });
}

/** Delivers the webhook; never throws (a failed delivery is logged by the caller through `onError`). */
export async function deliverWebhook(url: string, job: JobInfo, options: { secret?: string | undefined; allowPrivate: boolean; onError?: (error: unknown, attempt: number) => void }): Promise<boolean> {
  const body = webhookBody(job);
  for (let attempt = 0; attempt <= DELAYS_MS.length; attempt++) {
    try {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (options.secret) headers[SIGNATURE_HEADER] = signWebhook(options.secret, body, Math.floor(Date.now() / 1000));
      const response = await guardedRequest(url, { method: "POST", headers, body, maxBytes: 1 << 20, timeoutMs: 10_000, allowPrivate: options.allowPrivate, followRedirects: false });
      if (response.status >= 200 && response.status < 300) return true;
      throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      options.onError?.(error, attempt + 1);
      const delay = DELAYS_MS[attempt];
      if (delay === undefined) return false;
      await sleep(delay);
    }
  }
  return false;
}
