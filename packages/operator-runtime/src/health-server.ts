// /healthz, /readyz and /metrics on their own port. Readiness means "caches synced", never
// "is leader": followers serve the HTTP API too and must receive traffic.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  checks: () => readonly ReadinessCheck[];
  registry: Registry;
}

export async function startHealthServer(
  options: HealthServerOptions,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz" || path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const pending = options
        .checks()
        .filter((c) => !c.ready())
        .map((c) => c.name);
      res.writeHead(pending.length ? 503 : 200, { "content-type": "text/plain" });
      res.end(pending.length ? `not ready: ${pending.join(", ")}\n` : "ok\n");
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { server, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
