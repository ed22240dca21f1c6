import { describe, expect, it } from "vitest";
import { envName, parseDuration, usage } from "./options.ts";

describe("parseDuration", () => {
  it("reads Go-style durations", () => {
    expect(parseDuration("300ms")).toBe(300);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
  });

  it("refuses anything else", () => {
    for (const bad of ["", "15", "s", "1x", "1s ", " 1s", "-1s", "1s2"]) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe("usage", () => {
  it("lists every flag with its variable", () => {
    const text = usage();
    expect(text).toContain("--http-port=… (EAO_HTTP_PORT)");
    expect(text).toContain("--leader-elect[=false] (EAO_LEADER_ELECT)");
    expect(text.match(/^ {2}--/gm)).toHaveLength(25);
    expect(envName("leader-elect-retry-period")).toBe("EAO_LEADER_ELECT_RETRY_PERIOD");
  });
});
