// What the end user (holder of only the execution token) can learn, through the HTTP API: not
// whether the user has a device, not whether someone else mailed the address recently, not what
// the relay answered. The application that started the execution sees the reasons.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, type ApiResponse, codeIn, createFlow, startApiFixture } from "../harness/api-fixture.ts";
import { readyIs } from "../harness/objects.ts";
import { freePort } from "../harness/ports.ts";

let f: ApiFixture;
const start = (flow: string, user: Record<string, unknown>) =>
  f.call("POST", `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`, { user }, f.appToken);
const asUser = (r: ApiResponse) => ({ id: String(r.body.id), token: String(r.body.token) });
const submit = (x: { id: string; token: string }, body: unknown) =>
  f.call("POST", `/api/v1/executions/${x.id}`, body, x.token);
const view = (x: { id: string; token: string }) => f.call("GET", `/api/v1/executions/${x.id}`, undefined, x.token);
const mailsTo = async (address: string) =>
  (await f.mailpit.messages()).filter((m) => m.To.some((t) => t.Address === address)).length;

/** The shape of an answer, without the values that differ between any two executions. */
function shape(r: ApiResponse): unknown {
  const strip = (v: unknown): unknown =>
    v && typeof v === "object"
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(
              ([k]) =>
                !["id", "expiresAt", "resendAvailableAt", "maskedEmail", "instance", "retryAfter", "retryAt"].includes(
                  k,
                ),
            )
            .map(([k, val]) => [k, strip(val)]),
        )
      : v;
  return { status: r.status, body: strip(r.body) };
}

beforeAll(async () => {
  f = await startApiFixture("enum");
  await createFlow(f, "enum", { useGlobalSettings: true, limits: { sendsPerAddressPerHour: 2 } }, [
    { name: "enum-enroll", flow: "enroll", intent: "Setup" },
    { name: "enum-login", flow: "login", intent: "Authenticate", whenNoDevice: "Deny" },
  ]);
  const closed = await freePort();
  await f.k.create("emailauthenticatorstages", "down", {
    connection: { host: "127.0.0.1", port: closed, fromAddress: "codes@example.com", timeout: 2 },
  });
  await f.k.create("flowbindings", "down", { flow: "down", intent: "Setup", stageRef: { name: "down" } });
  await f.k.waitFor("flowbindings", "down", readyIs("True"), "down binding ready");
  // A user with a device.
  const enrolled = asUser(await start("enroll", { id: "has-device", email: "has@example.com" }));
  const code = codeIn(await f.mailpit.waitForMessageTo("has@example.com"));
  expect((await submit(enrolled, { code })).body.state).toBe("completed");
}, 180_000);

afterAll(async () => {
  await f?.stop();
});

describe("the execution token does not tell", () => {
  it("whether the user has a device: same state, same answers, only the application sees the denial", async () => {
    await f.mailpit.deleteAll();
    const withDevice = await start("login", { id: "has-device", email: "has@example.com" });
    const without = await start("login", { id: "no-device", email: "none@example.com" });
    // The application may see the reason.
    expect(withDevice.body.state).toBe("code_sent");
    expect(without.body).toMatchObject({ state: "denied", denial: { code: "no_device" } });

    const a = asUser(withDevice);
    const b = asUser(without);
    expect(shape(await view(a))).toEqual(shape(await view(b)));
    expect((await view(b)).body).toMatchObject({ state: "code_sent", challenge: { maskedEmail: "n***@e******.com" } });
    expect(shape(await submit(a, { code: "000000" }))).toEqual(shape(await submit(b, { code: "000000" })));
    expect(shape(await submit(a, { resend: true }))).toEqual(shape(await submit(b, { resend: true })));
    expect(await mailsTo("none@example.com")).toBe(0);
  });

  it("whether another party mailed the address this hour: the send looks the same and mails nobody", async () => {
    // Another party uses the address's two mails of the hour.
    for (const other of ["other-1", "other-2"])
      expect((await start("enroll", { id: other, email: "victim@example.com" })).status).toBe(201);
    await f.mailpit.waitForMessageTo("victim@example.com");
    const mine = asUser(await start("enroll", { id: "prober" }));
    const control = asUser(await start("enroll", { id: "control" }));
    const probed = await submit(mine, { email: "victim@example.com" });
    const fresh = await submit(control, { email: "fresh@example.com" });
    expect(probed.status, JSON.stringify(probed.body)).toBe(200);
    expect(shape(probed)).toEqual(shape(fresh));
    await f.mailpit.waitForMessageTo("fresh@example.com");
    expect(await mailsTo("victim@example.com")).toBe(2);
    // The application asking for the same address is told the truth.
    const app = await start("enroll", { id: "app-asks", email: "victim@example.com" });
    expect(app.body).toMatchObject({ status: 429, code: "send_limit" });
  });

  it("whether another party mailed the address, from the time the answer takes", async () => {
    // The address's two mails of the hour go to another party.
    for (const other of ["timing-other-1", "timing-other-2"])
      expect((await start("enroll", { id: other, email: "timed-victim@example.com" })).status).toBe(201);
    const pretended: number[] = [];
    const real: number[] = [];
    const timed = async (address: string, into: number[], i: number) => {
      const x = asUser(await start("enroll", { id: `timing-${into === real ? "real" : "fake"}-${i}` }));
      const t0 = performance.now();
      const r = await submit(x, { email: address });
      into.push(performance.now() - t0);
      expect(r.body.state).toBe("code_sent");
    };
    // Interleaved, so both kinds meet the same load.
    for (let i = 0; i < 8; i++) {
      await timed(`timed-fresh-${i}@example.com`, real, i);
      await timed("timed-victim@example.com", pretended, i);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
    const [p, r] = [median(pretended), median(real)];
    // A pretended send waits about as long as a real one takes (a moving average of real sends);
    // without that wait it answers after one record write, several times faster than a real send.
    expect(p, `pretended ${Math.round(p)} ms vs real ${Math.round(r)} ms`).toBeGreaterThan(r * 0.6);
    expect(p, `pretended ${Math.round(p)} ms vs real ${Math.round(r)} ms`).toBeLessThan(r * 1.8 + 20);
    expect(await mailsTo("timed-victim@example.com")).toBe(2);
  });

  it("what the relay answered: the end user gets no reason, the application does", async () => {
    const started = await start("down", { id: "relay-down", email: "down@example.com" });
    expect(started.status).toBe(503);
    expect(String(started.body.detail)).toContain("ConnectionFailed");
    const x = asUser({ ...started, body: started.body.execution as Record<string, unknown> });
    const resent = await submit(x, { resend: true });
    expect(resent.status).toBe(503);
    expect(resent.body.code).toBe("smtp_unavailable");
    expect(String(resent.body.detail)).not.toMatch(/ConnectionFailed|refused|127\.0\.0\.1/);
  });

  it("why a flow was denied: the end user sees that it cannot continue, the application why", async () => {
    const again = await start("enroll", { id: "has-device", email: "other@example.com" });
    expect(again.body).toMatchObject({ state: "denied", denial: { code: "device_exists" } });
    expect((await view(asUser(again))).body).toMatchObject({ state: "denied", denial: { code: "denied" } });
  });
});
