import { describe, expect, it } from "vitest";
import { lookupLocale, parseAcceptLanguage } from "./accept-language.ts";

const pick = (header: string | undefined) => lookupLocale(parseAcceptLanguage(header), ["en", "de"] as const, "en");

describe("parseAcceptLanguage", () => {
  it("orders by q-value and keeps the header order among equals", () => {
    expect(parseAcceptLanguage("fr;q=0.5, de-CH, en;q=0.9, de;q=0.5")).toEqual([
      { tag: "de-ch", q: 1 },
      { tag: "en", q: 0.9 },
      { tag: "fr", q: 0.5 },
      { tag: "de", q: 0.5 },
    ]);
  });

  it("drops malformed ranges and q-values instead of guessing", () => {
    expect(parseAcceptLanguage("de;q=2, en;q=abc, fr;q=0.1234, it;q=1.000, es;q=0.")).toEqual([
      { tag: "it", q: 1 },
      { tag: "es", q: 0 },
    ]);
    expect(parseAcceptLanguage("<script>, de_DE, 12, ")).toEqual([]);
    expect(parseAcceptLanguage("x".repeat(2000))).toEqual([]);
    expect(parseAcceptLanguage(undefined)).toEqual([]);
  });

  it("reads Q= case-insensitively and ignores unknown parameters", () => {
    expect(parseAcceptLanguage("de;Q=0.3;foo=bar")).toEqual([{ tag: "de", q: 0.3 }]);
  });

  it("looks at no more than 32 ranges", () => {
    const header = Array.from({ length: 40 }, () => "fr").join(",") + ",de";
    expect(parseAcceptLanguage(header)).toHaveLength(32);
    expect(pick(header)).toBe("en");
  });
});

describe("lookupLocale", () => {
  it("picks the best supported language", () => {
    expect(pick("de-DE,de;q=0.9,en;q=0.8")).toBe("de");
    expect(pick("fr-FR, de;q=0.7, en;q=0.6")).toBe("de");
    expect(pick("en-GB")).toBe("en");
    expect(pick("fr")).toBe("en");
    expect(pick("")).toBe("en");
  });

  it("respects q=0 as a refusal, also for the wildcard", () => {
    expect(pick("en;q=0, *")).toBe("de");
    expect(pick("de;q=0, de-AT")).toBe("en");
    expect(pick("*;q=0.5, de;q=0.6")).toBe("de");
  });

  it("is not fooled by prefixes that are not subtag boundaries", () => {
    expect(pick("den")).toBe("en");
    expect(pick("deu")).toBe("en");
  });
});
