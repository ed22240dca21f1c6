import { describe, expect, it } from "vitest";
import { parseRequestKey, requestKey, TerminalError } from "./reconcile-result.ts";

describe("request keys", () => {
  it("round-trips namespaced and cluster-scoped requests", () => {
    for (const req of [
      { namespace: "team-a", name: "email" },
      { namespace: "", name: "cluster-thing" },
    ]) {
      expect(parseRequestKey(requestKey(req))).toEqual(req);
    }
    expect(requestKey({ namespace: "team-a", name: "email" })).toBe("team-a/email");
  });
});

describe("TerminalError", () => {
  it("is an Error that keeps its name, message and cause", () => {
    const cause = new Error("root");
    const err = new TerminalError("secret reference is invalid", { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("TerminalError");
    expect(err.message).toBe("secret reference is invalid");
    expect(err.cause).toBe(cause);
    expect(String(err)).toBe("TerminalError: secret reference is invalid");
  });
});
