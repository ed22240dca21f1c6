// The demo client application of `npm run dev`: "sign in with an email code". It starts a flow
// for a typed user over the operator's JSON API (as the ServiceAccount sign-in-app), sends the
// browser to the hosted pages, and verifies the signed result it gets back against the
// operator's JWKS, showing the claims. What a real application does, in one small file.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { html, type SafeHtml } from "../../src/pages/html.ts";
import { DEFAULT_ISSUER } from "../../src/operator/hosted-pages.ts";
import type { JwksDocument } from "../../src/signing/jwks.ts";
import { verifyResult } from "../../src/signing/result-token.ts";

export const DEMO_PORT = Number(process.env.EAO_DEMO_PORT ?? 8090);

export interface DemoAppOptions {
  /** The operator's HTTP API, http or https. */
  operatorUrl: string;
  /** CA of the operator's serving certificate, when it is self-signed. */
  caFile?: string | undefined;
  /** Token of the ServiceAccount allowed to execute the flows. */
  appToken: string;
  /** Its Kubernetes username: the audience of the results. */
  appUsername: string;
  namespace: string;
  port?: number;
  /** The flows offered: signing in (enrolling first when needed) and enrolling only. */
  flows?: { signIn: string; enroll: string };
}

export interface DemoApp {
  url: string;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  body: string;
}

/** A request to the operator that trusts its CA (fetch cannot be given one). */
function call(o: DemoAppOptions, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const url = new URL(path, o.operatorUrl);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { "content-type": "application/json" } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  if (url.protocol === "http:")
    return fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }).then(
      async (r) => ({ status: r.status, body: await r.text() }),
    );
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}) }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
      </head>
      <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.value;
}

export async function startDemoApp(o: DemoAppOptions): Promise<DemoApp> {
  const port = o.port ?? DEMO_PORT;
  const base = `http://127.0.0.1:${port}`;
  /** state → user, so a result this app did not ask for is noticed. */
  const pending = new Map<string, string>();
  const flows = o.flows ?? { signIn: "sign-in", enroll: "enroll-email" };

  const send = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(text);
  };

  const home = (res: ServerResponse, message = "") =>
    send(
      res,
      200,
      page(
        "Demo shop: sign in with an email code",
        html`${message ? html`<p role="alert">${message}</p>` : ""}
          <form method="post" action="/start">
            <p>
              <label for="user">User id</label><br />
              <input id="user" name="user" required value="alice" />
            </p>
            <p>
              <label for="flow">Flow</label><br />
              <select id="flow" name="flow">
                <option value="${flows.signIn}">${flows.signIn}</option>
                <option value="${flows.enroll}">${flows.enroll}</option>
              </select>
            </p>
            <p><button type="submit">Sign in with an email code</button></p>
          </form>
          <p>The code arrives in Mailpit's inbox (its web UI is printed by npm run dev).</p>`,
      ),
    );

  const start = async (req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    for await (const chunk of req) raw += String(chunk);
    const form = new URLSearchParams(raw);
    const user = (form.get("user") ?? "").trim().slice(0, 64);
    const flow = form.get("flow") === flows.enroll ? flows.enroll : flows.signIn;
    if (!user) return home(res, "Type a user id.");
    const state = randomBytes(16).toString("base64url");
    const r = await call(
      o,
      "POST",
      `/api/v1/namespaces/${o.namespace}/flows/${flow}/executions`,
      { user: { id: user }, returnTo: `${base}/callback`, state },
      o.appToken,
    );
    const answer = JSON.parse(r.body) as { pageUrl?: string; detail?: string };
    if (r.status !== 201 || !answer.pageUrl)
      return home(res, `The operator said ${r.status}: ${answer.detail ?? r.body}`);
    pending.set(state, user);
    res.writeHead(303, { location: new URL(answer.pageUrl, o.operatorUrl).href }).end();
  };

  const callback = async (url: URL, res: ServerResponse) => {
    const jws = url.searchParams.get("result");
    if (!jws) return home(res, `The flow ended without a result (${url.searchParams.get("error") ?? "no reason"}).`);
    const jwks = JSON.parse((await call(o, "GET", "/.well-known/jwks.json")).body) as JwksDocument;
    const verified = await verifyResult(jws, {
      jwks,
      issuer: DEFAULT_ISSUER,
      audience: o.appUsername,
      now: new Date(),
    });
    if (!verified.ok) return send(res, 400, page("The result did not verify", html`<p>${verified.reason}</p>`));
    const expected = verified.claims.state ? pending.get(verified.claims.state) : undefined;
    if (verified.claims.state) pending.delete(verified.claims.state);
    send(
      res,
      200,
      page(
        `Signed in as ${verified.claims.sub}`,
        html`<p>
            The result verified against the operator's JWKS (ES256).
            ${expected === verified.claims.sub ? "Its state matches the one this app sent." : "Its state was not ours!"}
          </p>
          <table>
            ${Object.entries(verified.claims).map(
              ([k, v]) =>
                html`<tr>
                  <th scope="row" style="text-align: left; padding-right: 1rem">${k}</th>
                  <td><code>${JSON.stringify(v)}</code></td>
                </tr>`,
            )}
          </table>
          <p><a href="/">Again</a></p>`,
      ),
    );
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", base);
    const handle =
      req.method === "POST" && url.pathname === "/start"
        ? start(req, res)
        : url.pathname === "/callback"
          ? callback(url, res)
          : Promise.resolve(home(res));
    handle.catch((e: unknown) => send(res, 500, page("Demo error", html`<pre>${String(e)}</pre>`)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`demo app: cannot listen on 127.0.0.1:${port}: ${e.message}`)));
    server.listen(port, "127.0.0.1", resolve);
  });
  return { url: base, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
