import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer } from "./health-server.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

describe("health server", () => {
  it("answers /healthz always and /readyz only when every check is ready, naming the rest", async () => {
    let synced = false;
    const s = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      registry: new Registry(),
      checks: () => [{ name: "informer emailauthenticatorstages", ready: () => synced }],
    });
    close = s.close;
    const get = (p: string) => fetch(`http://127.0.0.1:${s.port}${p}`);
    expect((await get("/healthz")).status).toBe(200);
    const notReady = await get("/readyz");
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe("not ready: informer emailauthenticatorstages\n");
    synced = true;
    expect((await get("/readyz")).status).toBe(200);
    expect((await get("/nope")).status).toBe(404);
  });
});
