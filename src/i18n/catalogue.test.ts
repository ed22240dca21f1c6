import { describe, expect, it } from "vitest";
import { CATALOGUES, chooseLocale, LOCALES, type MessageKey, placeholders, translator } from "./catalogue.ts";
import { en } from "./en.ts";

describe("catalogues", () => {
  const keys = Object.keys(en).sort() as MessageKey[];

  it.each(LOCALES)("%s has every key, with the same placeholders and plural shape as English", (locale) => {
    const catalogue = CATALOGUES[locale];
    expect(Object.keys(catalogue).sort()).toEqual(keys);
    for (const key of keys) {
      const message = catalogue[key];
      expect(typeof message, key).toBe(typeof en[key]);
      expect(placeholders(message), key).toEqual(placeholders(en[key]));
      const texts = typeof message === "string" ? [message] : [message.one, message.other];
      for (const text of texts) expect(text.trim().length, key).toBeGreaterThan(0);
    }
  });

  it("German is really German, not a copy of English", () => {
    const same = (Object.keys(en) as MessageKey[]).filter(
      (k) => JSON.stringify(CATALOGUES.de[k]) === JSON.stringify(en[k]),
    );
    expect(same).toEqual(["page.footerLabel"]);
  });
});

describe("translator", () => {
  it("fills placeholders and picks plural forms per locale", () => {
    const t = translator("en").t;
    expect(t("code.intro", { length: 6, email: "a***@e******.com" })).toBe(
      "We sent a 6-digit code to a***@e******.com.",
    );
    expect(t("problem.invalid_code", { count: 1 })).toBe("That code is not correct. You can try 1 more time.");
    expect(t("problem.invalid_code", { count: 2 })).toBe("That code is not correct. You can try 2 more times.");
    expect(translator("de").t("problem.invalid_code", { count: 1 })).toBe(
      "Dieser Code ist nicht richtig. Sie haben noch 1 Versuch.",
    );
  });

  it("leaves a missing placeholder visible rather than printing undefined", () => {
    expect(translator("en").t("mail.greeting")).toBe("Hi {name},");
  });
});

describe("chooseLocale", () => {
  it("prefers the application's locale for the user, then Accept-Language, then English", () => {
    expect(chooseLocale("en", "de-AT")).toBe("de");
    expect(chooseLocale("de", "fr")).toBe("de");
    expect(chooseLocale("fr", "<bad>")).toBe("en");
    expect(chooseLocale(undefined)).toBe("en");
  });
});
