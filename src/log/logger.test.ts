import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, REDACTED } from "./logger.ts";

function memory() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  return { stream, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRETS = ["hunter2-smtp", "482913", "eyJhbGciOiJSUzI1NiJ9.payload.sig", "hmac-key-bytes", "cookie-value"];

describe("createLogger", () => {
  it("never writes passwords, codes or tokens, at any depth we log", () => {
    const out = memory();
    const log = createLogger({ level: "info", destination: out.stream });
    const [password, code, token, hmacKey, cookie] = SECRETS;
    log.info({ password, code, token }, "top level");
    log.info({ connection: { host: "smtp.example", password }, auth: { user: "mailer", pass: password } }, "nested");
    log.info({ req: { headers: { authorization: `Bearer ${token}`, cookie, "set-cookie": cookie } } }, "headers");
    log.info(
      { stage: { spec: { credentials: { username: "u", password } } }, challenge: { otp: code, hmacKey } },
      "deep",
    );
    log.child({ token }).info("child bindings");
    const text = out.lines.join("\n");
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    const [top, nested, headers, deep, child] = out.records();
    expect(top).toMatchObject({ password: REDACTED, code: REDACTED, token: REDACTED });
    expect(nested).toMatchObject({
      connection: { host: "smtp.example", password: REDACTED },
      auth: { user: "mailer", pass: REDACTED },
    });
    expect(headers).toMatchObject({
      req: { headers: { authorization: REDACTED, cookie: REDACTED, "set-cookie": REDACTED } },
    });
    expect(deep).toMatchObject({
      stage: { spec: { credentials: REDACTED } },
      challenge: { otp: REDACTED, hmacKey: REDACTED },
    });
    expect(child).toMatchObject({ token: REDACTED });
  });

  it("censors child and grandchild bindings, errors' own fields and array items, and leaves dates alone", () => {
    const out = memory();
    const log = createLogger({ level: "info", destination: out.stream });
    const [password, code, token] = SECRETS;
    const child = log.child({ component: "smtp", connection: { host: "smtp.example", password } });
    child.child({ session: { bearer: token } }).info("grandchild");
    const failure = Object.assign(new Error("send failed"), { code, response: { otp: code } });
    child.error({ err: failure, attempts: [{ token }, { ok: true }], at: new Date("2026-12-01T00:00:00Z") }, "failed");
    log.warn({ wrapped: { cause: Object.assign(new Error("inner"), { password }) } }, "nested error");
    const text = out.lines.join("\n");
    for (const secret of [password, code, token]) expect(text).not.toContain(secret);
    const [grandchild, failed, nested] = out.records();
    expect(grandchild).toMatchObject({
      component: "smtp",
      connection: { host: "smtp.example", password: REDACTED },
      session: { bearer: REDACTED },
    });
    expect(failed?.err).toMatchObject({
      type: "Error",
      message: "send failed",
      code: REDACTED,
      response: { otp: REDACTED },
    });
    expect(failed).toMatchObject({ attempts: [{ token: REDACTED }, { ok: true }], at: "2026-12-01T00:00:00.000Z" });
    expect(nested).toMatchObject({ wrapped: { cause: { password: REDACTED } } });
  });

  it("censors keys down to the fourth level, as deep as anything here logs", () => {
    const out = memory();
    const log = createLogger({ level: "info", destination: out.stream });
    log.info({ a: { b: { c: { password: "at-level-four" } } } }, "deep");
    log.info({ a: { b: { c: { d: { password: "at-level-five" } } } } }, "deeper");
    const [deep, deeper] = out.records();
    expect(deep).toMatchObject({ a: { b: { c: { password: REDACTED } } } });
    // Beyond the walk's depth a value is written as it is; nothing we log nests a secret that deep.
    expect(deeper).toMatchObject({ a: { b: { c: { d: { password: "at-level-five" } } } } });
  });

  it("keeps ordinary fields, and writes ISO time and level names", () => {
    const out = memory();
    const log = createLogger({ level: "debug", destination: out.stream });
    log.debug({ namespace: "team-a", name: "email", key: "team-a/email", status: 409 }, "reconciled");
    const [record] = out.records();
    expect(record).toMatchObject({
      level: "debug",
      namespace: "team-a",
      name: "email",
      key: "team-a/email",
      status: 409,
      msg: "reconciled",
    });
    expect(String(record?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("serializes real errors with their stack and logs plain error objects as they are", () => {
    const out = memory();
    const log = createLogger({ level: "info", destination: out.stream });
    log.error({ err: new TypeError("bad input") }, "real");
    log.error({ err: { kind: "api", status: 404, message: "not found" } }, "plain");
    const [real, plain] = out.records();
    expect(real?.err).toMatchObject({ type: "TypeError", message: "bad input" });
    expect(String((real?.err as { stack?: string }).stack)).toContain("logger.test.ts");
    expect(plain?.err).toEqual({ kind: "api", status: 404, message: "not found" });
  });

  it("drops records below the configured level", () => {
    const out = memory();
    const log = createLogger({ level: "warn", destination: out.stream });
    log.info("hidden");
    log.warn("shown");
    expect(out.records().map((r) => r.msg)).toEqual(["shown"]);
  });
});
