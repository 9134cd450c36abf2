// A forward HTTP proxy for tests: CONNECT tunnels (what undici's ProxyAgent uses) and absolute-form
// requests. `route` maps the host the client asked for to where the proxy really connects, so a
// test can ask for a name that only the proxy can reach and so prove the proxy was used.
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";

export interface TestProxy {
  url: string;
  /** `host:port` targets the proxy was asked for, in order. */
  targets: string[];
  close(): Promise<void>;
}

export async function startProxy(route: (host: string, port: number) => { host: string; port: number }, listenHost = "127.0.0.1"): Promise<TestProxy> {
  const targets: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("absolute-form URL expected");
      return;
    }
    targets.push(`${target.hostname}:${target.port || 80}`);
    const to = route(target.hostname, Number(target.port || 80));
    const upstream = http.request({ host: to.host, port: to.port, method: req.method, path: target.pathname + target.search, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host = "", port = "443"] = (req.url ?? "").split(":");
    targets.push(`${host}:${port}`);
    const to = route(host, Number(port));
    const upstream = net.connect(to.port, to.host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${listenHost}:${port}`,
    targets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
