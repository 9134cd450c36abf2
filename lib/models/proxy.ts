// The one place that decides how model downloads reach the network: through the proxy that
// HTTPS_PROXY / HTTP_PROXY name (lower-case spellings win, as with curl), except for NO_PROXY
// hosts. Node's global fetch ignores these variables, so behind a corporate proxy the default
// model could not be fetched. Scoped to downloads: the process-wide dispatcher is left alone.
import { EnvHttpProxyAgent, fetch as undiciFetch } from "undici";

const PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"] as const;

/** The proxy variables that are set, as `name=value` lines (empty when downloads go direct). */
export function proxySettings(env: Record<string, string | undefined> = process.env): string {
  return PROXY_VARIABLES.filter((name) => env[name]?.trim())
    .map((name) => `${name}=${env[name]!.trim()}`)
    .join("\n");
}

let agent: { key: string; dispatcher: EnvHttpProxyAgent } | undefined;

/**
 * `fetch` for model downloads: Node's own when no proxy variable is set, otherwise undici's with an
 * EnvHttpProxyAgent built from the current environment (rebuilt when the variables change).
 */
export function proxiedFetch(url: string, init: RequestInit, env: Record<string, string | undefined> = process.env): Promise<Response> {
  const key = proxySettings(env);
  if (!/^(https?_proxy)=/im.test(key)) return fetch(url, init);
  if (agent?.key !== key) {
    const previous = agent?.dispatcher;
    const pick = (lower: string, upper: string) => env[lower]?.trim() || env[upper]?.trim() || undefined;
    const httpProxy = pick("http_proxy", "HTTP_PROXY");
    const httpsProxy = pick("https_proxy", "HTTPS_PROXY");
    const noProxy = pick("no_proxy", "NO_PROXY");
    agent = {
      key,
      dispatcher: new EnvHttpProxyAgent({
        ...(httpProxy ? { httpProxy } : {}),
        ...(httpsProxy ? { httpsProxy } : {}),
        ...(noProxy ? { noProxy } : {}),
      }),
    };
    void previous?.close().catch(() => {});
  }
  // undici's Response has the shape of Node's (Node bundles an older undici); typed separately.
  return undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent.dispatcher }) as unknown as Promise<Response>;
}
