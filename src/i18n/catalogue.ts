// Message catalogues for the hosted pages and the code email. A Translator is chosen per request
// from Accept-Language (or a locale the application passed for the user) and formats messages
// with named placeholders; plural forms follow Intl.PluralRules of the locale.
import { lookupLocale, parseAcceptLanguage } from "./accept-language.ts";
import { de } from "./de.ts";
import { en } from "./en.ts";

export type MessageKey = keyof typeof en;
export type Message = string | { readonly one: string; readonly other: string };
export type Catalogue = Record<MessageKey, Message>;

export const LOCALES = ["en", "de"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

export const CATALOGUES: Readonly<Record<Locale, Catalogue>> = { en, de };

export type Params = Readonly<Record<string, string | number>>;

export interface Translator {
  readonly locale: Locale;
  /** Plural messages need `count`; a missing placeholder value stays visible as `{name}`. */
  t: (key: MessageKey, params?: Params) => string;
}

export function isLocale(value: string): value is Locale {
  return (LOCALES as readonly string[]).includes(value);
}

/**
 * The locale for a request: an explicit preference (the user's locale from the application,
 * a BCP 47 tag) wins when we have it, then Accept-Language, then English.
 */
export function chooseLocale(acceptLanguage: string | undefined, preferred?: string): Locale {
  if (preferred) {
    const fromPreferred = lookupLocale(parseAcceptLanguage(preferred), LOCALES, "" as Locale);
    if (fromPreferred) return fromPreferred;
  }
  return lookupLocale(parseAcceptLanguage(acceptLanguage), LOCALES, DEFAULT_LOCALE);
}

export function translator(locale: Locale): Translator {
  const catalogue = CATALOGUES[locale];
  const plural = new Intl.PluralRules(locale);
  return {
    locale,
    t: (key, params = {}) => {
      const message = catalogue[key];
      const text =
        typeof message === "string"
          ? message
          : plural.select(Number(params.count ?? 0)) === "one"
            ? message.one
            : message.other;
      return text.replace(/\{([a-zA-Z]+)\}/g, (whole, name: string) =>
        params[name] === undefined ? whole : String(params[name]),
      );
    },
  };
}

/** The placeholder names a message uses, for the completeness test. */
export function placeholders(message: Message): string[] {
  const texts = typeof message === "string" ? [message] : [message.one, message.other];
  return [...new Set(texts.flatMap((t) => [...t.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => m[1] ?? "")))].sort();
}
