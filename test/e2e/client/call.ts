// Runs inside the client Pod (mounted from a ConfigMap, started by `kubectl exec`): one HTTP call
// as the application. `app` as the token means the Pod's own ServiceAccount token, minted for the
// operator's API. Prints {"status", "body"} as one JSON line.
// usage: node call.ts METHOD URL [JSON-BODY|-] [app|TOKEN]
import { readFileSync } from "node:fs";

const [method = "GET", url = "", body = "-", token = "app"] = process.argv.slice(2);
const tokenFile = process.env.APP_TOKEN_FILE ?? "/var/run/secrets/kubernetes.io/serviceaccount/token";
const bearer = token === "app" ? readFileSync(tokenFile, "utf8").trim() : token;
const res = await fetch(url, {
  method,
  headers: {
    authorization: `Bearer ${bearer}`,
    ...(body !== "-" ? { "content-type": "application/json" } : {}),
  },
  ...(body !== "-" ? { body } : {}),
});
const text = await res.text();
let parsed: unknown = text;
try {
  parsed = JSON.parse(text);
} catch {
  // not JSON: passed on as text
}
process.stdout.write(`${JSON.stringify({ status: res.status, body: parsed })}\n`);
