#!/usr/bin/env node
// The image's HEALTHCHECK: healthy while the service answers and its model is loaded or still
// loading (a first start downloads it: minutes for large-v3); unhealthy when it does not answer or
// when /ready reports that the model failed to load (a wrong WHISPER_MODEL, a download that failed,
// a corrupt file). GET /health alone stays the liveness probe for orchestrators that want one.
const port = process.env.PORT || "8000";
const url = `http://127.0.0.1:${port}/ready`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  const body = await response.json().catch(() => ({}));
  if (response.ok || (response.status === 503 && (body.status === "loading" || body.status === "idle"))) {
    console.log(`${body.status ?? response.status}: ${body.model ?? ""}`);
    process.exit(0);
  }
  console.error(`unhealthy: ${url} answered ${response.status} ${JSON.stringify(body)}`);
} catch (error) {
  console.error(`unhealthy: ${url}: ${error instanceof Error ? error.message : String(error)}`);
}
process.exit(1);
