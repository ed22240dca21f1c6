// Bad input through the HTTP API, against the real API server and a real Mailpit: every refusal
// is an RFC 9457 problem document with a stable code and a detail that names the problem, and
// nothing is left behind — no execution, challenge or throttle Secret is created or changed, no
// EmailDevice appears, no mail goes out. A valid request still works afterwards.
import { randomBytes } from "node:crypto";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../src/http/schemas.ts";
import {
  codeIn,
  createFlow,
  devicesApi,
  startApiFixture,
  type ApiFixture,
  type ApiResponse,
} from "../harness/api-fixture.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";

let f: ApiFixture;
let core: CoreV1Api;
/** This test's records and counters, in the operator's namespace. */
const RECORDS = () => `emailauth.dev/component in (execution,challenge,throttle),emailauth.dev/stage-namespace=${f.ns}`;

const startPath = (flow = "enroll") => `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`;
/** `token` "" sends no Authorization header. */
const start = (body: unknown, token = f.appToken, headers?: Record<string, string>) =>
  f.call("POST", startPath(), body, token, headers);
const submit = (id: unknown, body: unknown, token: unknown) =>
  f.call("POST", `/api/v1/executions/${String(id)}`, body, String(token));

/** What a request could leave behind: record Secrets (with versions, so an update shows), devices, mails. */
async function state() {
  const secrets = (await core.listNamespacedSecret({ namespace: OPERATOR_NAMESPACE, labelSelector: RECORDS() })).items
    .map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`)
    .sort();
  const devices = (await devicesApi(f.admin, f.ns)()).map((d) => d.metadata.name).sort();
  const mails = (await f.mailpit.messages()).map((m) => m.ID).sort();
  return { secrets, devices, mails };
}

/** Runs `requests` and checks that the namespace and the mailbox look exactly as before. */
async function leavesNothing(requests: () => Promise<void>): Promise<void> {
  const before = await state();
  await requests();
  expect(await state()).toEqual(before);
}

/** An RFC 9457 problem document with this status and code, and a detail matching `detail`. */
function expectProblem(res: ApiResponse, status: number, code: string, detail?: RegExp, what = ""): void {
  const context = `${what} → ${res.status} ${JSON.stringify(res.body)}`;
  expect(res.status, context).toBe(status);
  expect(res.headers.get("content-type"), context).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("cache-control"), context).toBe("no-store");
  expect(problem.safeParse(res.body).success, context).toBe(true);
  expect(res.body, context).toMatchObject({
    status,
    code,
    type: `https://emailauth.dev/problems/${code.replaceAll("_", "-")}`,
  });
  expect(String(res.body.title), context).not.toBe("");
  expect(String(res.body.detail), context).not.toBe("");
  if (detail) expect(String(res.body.detail), context).toMatch(detail);
}

/** A schema error: `invalid_request` with an `errors` entry at each of `paths`. */
function expectSchemaError(res: ApiResponse, paths: string[], what: string): void {
  expectProblem(res, 400, "invalid_request", undefined, what);
  const errors = res.body.errors as { path: string; message: string }[];
  expect(Array.isArray(errors), what).toBe(true);
  expect(errors.map((e) => e.path).sort(), what).toEqual([...paths].sort());
  for (const e of errors) {
    expect(e.message, what).not.toBe("");
    expect(String(res.body.detail), what).toContain(`${e.path}: `);
  }
}

/** Header injection, several recipients, quoting, comments, IP literals, length: each with what the detail says. */
const BAD_ADDRESSES: [string, string, RegExp][] = [
  ["CR/LF and a Bcc header", "a@b.com\r\nBcc: x@evil.test", /control/],
  ["a bare LF", "a@b.com\nBcc: x@evil.test", /control/],
  ["two addresses", "a@b.com,c@d.e", /only one address/],
  ["a quoted local part", '"a"@b.com', /quotes/],
  ["a comment", "a(x)@b.com", /comments/],
  ["an IP literal", "a@[127.0.0.1]", /IP-address literals/],
  ["a display name with angle brackets", "Eve <a@b.com>", /angle brackets|spaces/],
  ["a NUL byte", "a@b.com\u0000x@evil.test", /control/],
  [
    "an address longer than 254 characters",
    `${"a".repeat(60)}@${Array.from({ length: 4 }, () => "b".repeat(60)).join(".")}.com`,
    /longer than 254/,
  ],
  [
    "a 400-character address",
    `${"a".repeat(64)}@${Array.from({ length: 6 }, () => "b".repeat(50)).join(".")}.${"c".repeat(25)}.com`,
    /longer than 254/,
  ],
];

beforeAll(async () => {
  // Hundreds of hostile requests from one address, as fast as the API answers them: the
  // per-address limit (20/s by default) is api-rate-limits.test.ts's subject, not this file's.
  f = await startApiFixture("input", { args: ["--rate-limit-per-address=1000/2000"] });
  core = f.admin.makeApiClient(CoreV1Api);
  await createFlow(f, "email", { useGlobalSettings: true, subject: "Your sign-in code", friendlyName: "Email code" }, [
    { name: "enroll", flow: "enroll", intent: "Setup" },
  ]);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

describe("addresses in user.email", () => {
  it("the 400-character case really has 400 characters", () => {
    expect(BAD_ADDRESSES.find(([what]) => what === "a 400-character address")?.[1]).toHaveLength(400);
  });

  for (const [what, email, detail] of BAD_ADDRESSES) {
    it(`refuses ${what} with invalid_email, before anything is created`, async () => {
      await leavesNothing(async () =>
        expectProblem(await start({ user: { id: "mallory", email } }), 400, "invalid_email", detail, what),
      );
    });
  }
});

describe("addresses submitted later", () => {
  let waiting: ApiResponse;
  beforeAll(async () => {
    waiting = await start({ user: { id: "mallory-later" } });
    expect(waiting.body).toMatchObject({ state: "email_required" });
  });

  for (const [what, email, detail] of BAD_ADDRESSES) {
    it(`refuses ${what} with invalid_email and changes nothing`, async () => {
      await leavesNothing(async () =>
        expectProblem(await submit(waiting.body.id, { email }, waiting.body.token), 400, "invalid_email", detail, what),
      );
    });
  }

  it("leaves the execution asking for an address", async () => {
    const now = await f.call(
      "GET",
      `/api/v1/executions/${String(waiting.body.id)}`,
      undefined,
      String(waiting.body.token),
    );
    expect(now.body).toMatchObject({ state: "email_required", challenge: { type: "email" } });
  });
});

describe("user fields", () => {
  const CONTROL: [string, string][] = [
    ["CR/LF", "x\r\nBcc: x@evil.test"],
    ["LF", "x\nfake log line"],
    ["NUL", "x\u0000y"],
    ["TAB", "x\ty"],
    ["ESC (terminal escape)", "x\u001b[2Jy"],
    ["DEL", "x\u007fy"],
    ["C1 NEL (U+0085)", "x\u0085y"],
    ["C1 CSI (U+009B, 8-bit terminal escape)", "x\u009b2Jy"],
  ];

  for (const [what, value] of CONTROL) {
    for (const field of ["id", "name"] as const) {
      it(`refuses ${what} in user.${field} with invalid_request naming the field`, async () => {
        const user = { id: "ok", email: "ok@example.com", [field]: value };
        await leavesNothing(async () =>
          expectSchemaError(await start({ user }), [`user.${field}`], `user.${field} with ${what}`),
        );
      });
    }
  }
});

describe("request bodies", () => {
  it("answers an oversized body with 413 payload_too_large", async () => {
    const waiting = await start({ user: { id: "big" } });
    await leavesNothing(async () => {
      const big = { user: { id: "big", email: "big@example.com", name: "x".repeat(20_000) } };
      expectProblem(await start(big), 413, "payload_too_large", /too large/, "20 kB start body");
      expectProblem(
        await submit(waiting.body.id, { email: `${"a".repeat(20_000)}@example.com` }, waiting.body.token),
        413,
        "payload_too_large",
        /too large/,
        "20 kB submit body",
      );
    });
  });

  it("refuses wrong types, missing and conflicting fields with invalid_request and the paths at fault", async () => {
    const waiting = await start({ user: { id: "types" } });
    const sent = await start({ user: { id: "types-sent", email: "types-sent@example.com" } });
    expect(sent.body).toMatchObject({ state: "code_sent" });
    const code = codeIn(await f.mailpit.waitForMessageTo("types-sent@example.com"));
    await leavesNothing(async () => {
      expectSchemaError(await start({ user: { id: 42 } }), ["user.id"], "user.id as a number");
      expectSchemaError(await start({ user: { id: "" } }), ["user.id"], "empty user.id");
      expectSchemaError(await start({ user: { id: "x".repeat(257) } }), ["user.id"], "user.id of 257 characters");
      expectSchemaError(await start({ user: { id: "x", email: 1 } }), ["user.email"], "user.email as a number");
      expectSchemaError(await start({ user: "alice" }), ["user"], "user as a string");
      expectSchemaError(await start({}), ["user"], "empty start body");
      expectSchemaError(await start([]), ["(body)"], "an array");
      for (const id of [waiting.body.id, sent.body.id]) {
        const token = id === waiting.body.id ? waiting.body.token : sent.body.token;
        expectSchemaError(await submit(id, { code: 123456 }, token), ["code"], "code as a number");
        expectSchemaError(await submit(id, { code: "12345a" }, token), ["code"], "code with a letter");
        expectSchemaError(await submit(id, { resend: false }, token), ["resend"], "resend: false");
        expectSchemaError(await submit(id, { resend: "true" }, token), ["resend"], "resend as a string");
        expectSchemaError(
          await submit(id, { email: "a@example.com", code: "123456" }, token),
          ["(body)"],
          "email and code together",
        );
        expectSchemaError(
          await submit(id, { code: "123456", resend: true }, token),
          ["(body)"],
          "code and resend together",
        );
        expectSchemaError(await submit(id, {}, token), ["(body)"], "empty submit body");
        expectSchemaError(await submit(id, { email: null }, token), ["email"], "email: null");
      }
    });
    // None of that cost the pending code an attempt: it still verifies.
    expect((await submit(sent.body.id, { code }, sent.body.token)).body).toMatchObject({
      state: "completed",
      result: { user: "types-sent" },
    });
  });

  it("refuses unknown fields at the top level and inside user", async () => {
    const waiting = await start({ user: { id: "unknown-fields" } });
    await leavesNothing(async () => {
      const top = await start({ user: { id: "x" }, admin: true });
      expectSchemaError(top, ["(body)"], "unknown top-level field");
      expect(String(top.body.detail)).toContain(`"admin"`);
      const inner = await start({ user: { id: "x", email: "x@example.com", role: "admin" } });
      expectSchemaError(inner, ["user"], "unknown field in user");
      expect(String(inner.body.detail)).toContain(`"role"`);
      expectSchemaError(
        await start('{"user":{"id":"x"},"__proto__":{"polluted":true}}'),
        ["(body)"],
        "__proto__ at the top level",
      );
      expectSchemaError(
        await start('{"user":{"id":"x","__proto__":{"polluted":true}}}'),
        ["user"],
        "__proto__ in user",
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const extra = await submit(waiting.body.id, { email: "a@example.com", to: "b@example.com" }, waiting.body.token);
      expectSchemaError(extra, ["(body)"], "unknown submit field");
      expect(String(extra.body.detail)).toContain(`"to"`);
    });
  });

  it("refuses malformed JSON with invalid_request", async () => {
    const waiting = await start({ user: { id: "malformed" } });
    await leavesNothing(async () => {
      for (const text of [
        '{"user":{"id":"x"}',
        "{user: {id: 'x'}}",
        '{"user":{"id":"x"}} trailing',
        "null",
        '"a string"',
        "42",
        "",
      ]) {
        expectProblem(await start(text), 400, "invalid_request", undefined, `start body ${JSON.stringify(text)}`);
        expectProblem(
          await submit(waiting.body.id, text, waiting.body.token),
          400,
          "invalid_request",
          undefined,
          `submit body ${JSON.stringify(text)}`,
        );
      }
      expectProblem(await start('{"user":{"id":"x"'), 400, "invalid_request", /not valid JSON/, "truncated JSON");
    });
  });

  it("answers a missing or other content type with 415 unsupported_media_type", async () => {
    const waiting = await start({ user: { id: "media" } });
    const body = JSON.stringify({ user: { id: "media-2" } });
    await leavesNothing(async () => {
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json; charset=latin1",
      ]) {
        expectProblem(
          await start(body, f.appToken, { "content-type": type }),
          415,
          "unsupported_media_type",
          undefined,
          `start as ${type}`,
        );
        const submitted = await f.call(
          "POST",
          `/api/v1/executions/${String(waiting.body.id)}`,
          '{"email":"a@example.com"}',
          String(waiting.body.token),
          { "content-type": type },
        );
        expectProblem(submitted, 415, "unsupported_media_type", undefined, `submit as ${type}`);
      }
      // No Content-Type at all: raw bytes, which fetch sends without one.
      const raw = await fetch(`${f.url}${startPath()}`, {
        method: "POST",
        headers: { authorization: `Bearer ${f.appToken}` },
        body: new TextEncoder().encode(body),
      });
      expect(raw.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expectProblem(
        { status: raw.status, headers: raw.headers, body: (await raw.json()) as Record<string, unknown> },
        415,
        "unsupported_media_type",
        /Content-Type: application\/json/,
        "no content type",
      );
      // A POST with no body at all.
      expectProblem(
        await f.call("POST", startPath(), undefined, f.appToken),
        415,
        "unsupported_media_type",
        undefined,
        "no body",
      );
    });
  });
});

describe("ids, routes and credentials", () => {
  describe("malformed and unknown execution ids: 404 not_found, even with a valid token", () => {
    let real: ApiResponse;
    const hex = () => String(real.body.id).split(".")[1] ?? "";
    const other = randomBytes(16).toString("hex");
    const stranger = `no-such-namespace-${randomBytes(3).toString("hex")}`;
    beforeAll(async () => {
      real = await start({ user: { id: "ids" } });
    });

    const cases: [string, () => string][] = [
      ["../x (encoded)", () => "%2E%2E%2Fx"],
      ["a path into another name (encoded)", () => `${f.ns}%2F..%2F${hex()}`],
      ["uppercase hex", () => `${f.ns}.${hex().toUpperCase()}`],
      ["an uppercase namespace", () => `${f.ns.toUpperCase()}.${hex()}`],
      ["too short", () => `${f.ns}.${hex().slice(0, 31)}`],
      ["too long", () => `${f.ns}.${hex()}0`],
      ["not hex", () => `${f.ns}.${hex().slice(0, 31)}g`],
      ["no namespace", () => hex()],
      ["an empty namespace", () => `.${hex()}`],
      ["a namespace name of 64 characters", () => `${"a".repeat(64)}.${hex()}`],
      ["an unknown id in this namespace", () => `${f.ns}.${other}`],
      ["the operator's own namespace", () => `email-authenticator-system.${hex()}`],
      ["a namespace that does not exist", () => `${stranger}.${hex()}`],
    ];
    for (const [what, id] of cases) {
      it(what, async () => {
        await leavesNothing(async () => {
          for (const [who, credential] of [
            ["execution token", () => String(real.body.token)],
            ["application token", () => f.appToken],
          ] as const) {
            expectProblem(
              await f.call("GET", `/api/v1/executions/${id()}`, undefined, credential()),
              404,
              "not_found",
              /no such execution/,
              `GET ${id()} with the ${who}`,
            );
            expectProblem(
              await submit(id(), { email: "ids@example.com" }, credential()),
              404,
              "not_found",
              /no such execution/,
              `POST ${id()} with the ${who}`,
            );
          }
        });
      });
    }

    it("leaves the real execution untouched", async () => {
      expect(
        (await f.call("GET", `/api/v1/executions/${String(real.body.id)}`, undefined, String(real.body.token))).body,
      ).toMatchObject({ id: real.body.id, state: "email_required" });
    });
  });

  it("answers an unknown flow or namespace with 404 not_found", async () => {
    await leavesNothing(async () => {
      expectProblem(
        await f.call("POST", startPath("no-such-flow"), { user: { id: "x" } }, f.appToken),
        404,
        "not_found",
        /no-such-flow/,
        "unknown flow",
      );
      expectProblem(
        await f.call("POST", startPath("Not_A_Flow"), { user: { id: "x" } }, f.appToken),
        404,
        "not_found",
        undefined,
        "invalid flow name",
      );
      expectProblem(
        await f.call("POST", startPath("x".repeat(64)), { user: { id: "x" } }, f.appToken),
        404,
        "not_found",
        undefined,
        "flow name of 64 characters",
      );
    });
  });

  it("answers unknown routes and methods with a 404 problem", async () => {
    await leavesNothing(async () => {
      for (const [method, path] of [
        ["GET", "/"],
        ["GET", "/api/v1/nothing"],
        ["GET", startPath()],
        ["POST", "/api/v1/executions"],
        ["POST", `/api/v1/namespaces/${f.ns}/flows/enroll`],
        ["GET", "/api/v1/executions/../../openapi.json/x"],
      ] as const) {
        expectProblem(
          await f.call(method, path, method === "POST" ? { user: { id: "x" } } : undefined, f.appToken),
          404,
          "not_found",
          undefined,
          `${method} ${path}`,
        );
      }
    });
  });

  it("answers requests without usable credentials with 401 unauthorized", async () => {
    const real = await start({ user: { id: "creds" } });
    const id = String(real.body.id);
    await leavesNothing(async () => {
      expectProblem(
        await start({ user: { id: "x", email: "x@example.com" } }, ""),
        401,
        "unauthorized",
        /Authorization: Bearer/,
        "start without a header",
      );
      expectProblem(
        await f.call("GET", `/api/v1/executions/${id}`),
        401,
        "unauthorized",
        undefined,
        "GET without a header",
      );
      expectProblem(
        await f.call("POST", `/api/v1/executions/${id}`, { email: "x@example.com" }),
        401,
        "unauthorized",
        undefined,
        "submit without a header",
      );
      expectProblem(
        await start({ user: { id: "x" } }, "", { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }),
        401,
        "unauthorized",
        undefined,
        "Basic credentials",
      );
      expectProblem(
        await start({ user: { id: "x" } }, "", { authorization: "Bearer " }),
        401,
        "unauthorized",
        undefined,
        "empty bearer token",
      );
      expectProblem(
        await start({ user: { id: "x" } }, "not-a-real-token"),
        401,
        "unauthorized",
        /not accepted/,
        "unknown bearer token",
      );
      // An execution token cannot start executions.
      expectProblem(
        await start({ user: { id: "x" } }, String(real.body.token)),
        401,
        "unauthorized",
        undefined,
        "execution token on start",
      );
    });
  });
});

describe("after all that", () => {
  it("a valid request still works: address, mail, code, device", async () => {
    await f.mailpit.deleteAll();
    const started = await start({ user: { id: "valid", name: "Valid User" } });
    expect(started.status).toBe(201);
    const sent = await submit(started.body.id, { email: "valid@example.com" }, started.body.token);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ state: "code_sent", challenge: { maskedEmail: "v****@e******.com" } });
    const mail = await f.mailpit.waitForMessageTo("valid@example.com");
    expect(mail.To).toEqual([{ Address: "valid@example.com", Name: "Valid User" }]);
    const done = await submit(started.body.id, { code: codeIn(mail) }, started.body.token);
    expect(done.body).toMatchObject({
      state: "completed",
      result: { user: "valid", maskedEmail: "v****@e******.com" },
    });
    // The devices are those of the two verified codes, and nothing else.
    expect((await devicesApi(f.admin, f.ns)()).map((d) => d.spec.email).sort()).toEqual([
      "types-sent@example.com",
      "valid@example.com",
    ]);
    // Only the mails of the valid requests ever went out.
    expect((await f.mailpit.messages()).map((m) => m.To.map((t) => t.Address)).flat()).toEqual(["valid@example.com"]);
  });
});
