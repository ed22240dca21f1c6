import { describe, expect, it } from "vitest";
import { EMAIL_PATTERN } from "../kinds/v1alpha1/common.ts";
import { maskAddress, parseAddress, sanitizeDisplayName } from "./address.ts";

const label = (n: number) => "a".repeat(n);

describe("parseAddress accepts", () => {
  it.each([
    ["user@example.com", "user@example.com", "user@example.com"],
    ["  User.Name@Example.COM\t", "User.Name@example.com", "user.name@example.com"],
    ["first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"],
    ["o'brien@example.ie", "o'brien@example.ie", "o'brien@example.ie"],
    ["a!#$%&'*+/=?^_{|}~-z@example.org", "a!#$%&'*+/=?^_{|}~-z@example.org", "a!#$%&'*+/=?^_{|}~-z@example.org"],
    ["user@bücher.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"],
    ["User@BÜCHER.Example", "User@xn--bcher-kva.example", "user@xn--bcher-kva.example"],
    ["user@xn--bcher-kva.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"],
    ["user@faß.de", "user@xn--fa-hia.de", "user@xn--fa-hia.de"],
    ["x@例え.テスト", "x@xn--r8jz45g.xn--zckzah", "x@xn--r8jz45g.xn--zckzah"],
    ["xx@0.co", "xx@0.co", "xx@0.co"],
    ["a@my-host.example", "a@my-host.example", "a@my-host.example"],
    [`${label(64)}@example.com`, `${label(64)}@example.com`, `${label(64)}@example.com`],
    [`a@${label(63)}.com`, `a@${label(63)}.com`, `a@${label(63)}.com`],
  ])("%j → %j", (input, address, key) => {
    const r = parseAddress(input);
    expect(r).toEqual({ ok: true, address, key });
    // What is stored always satisfies the CRDs' pattern.
    if (r.ok) expect(r.address).toMatch(new RegExp(EMAIL_PATTERN));
  });

  it("accepts exactly 254 characters and refuses 255", () => {
    const domain = (total: number) => `${label(63)}.${label(63)}.${label(63)}.${label(total - 2 - 3 * 64 - 4)}.com`;
    const at254 = `a@${domain(254)}`;
    expect(at254).toHaveLength(254);
    expect(parseAddress(at254).ok).toBe(true);
    const over = parseAddress(`ab@${domain(254)}`);
    expect(over.ok).toBe(false);
    if (!over.ok) expect(over.reason).toMatch(/longer than 254/);
  });
});

describe("parseAddress refuses", () => {
  it.each([
    // header and SMTP injection
    ["a@b.com\r\nBcc: x@y.z", /control/],
    ["a@b.com\nBcc: x@y.z", /control/],
    ["a@b.com\r\n", /control/],
    ["a\u0000@b.com", /control/],
    ["a@b.com\u0000", /control/],
    ["a\u007f@b.com", /control/],
    ["a\u0085@b.com", /control/],
    ["a@b\u202e.com", /invisible/],
    ["a@ex\u200bample.com", /invisible/],
    ["a@bü\u00adcher.de", /invisible/],
    // several recipients
    ["a@b.com,c@d.e", /only one address/],
    ["a@b.com;c@d.e", /only one address/],
    ["a@b.com c@d.e", /spaces/],
    // quoting, comments, display-name syntax
    ['"a"@b.com', /quotes/],
    ['"victim@x.com x"@attacker.tld', /quotes/],
    ["a\\@b.com", /quotes and backslashes/],
    ["a(comment)@b.com", /comments/],
    ["user@good.com(x)evil.com", /comments/],
    ["Eve <a@b.com>", /angle brackets/],
    ["<a@b.com>", /angle brackets/],
    ["a b@c.com", /spaces/],
    ["a\u00a0b@c.com", /spaces/],
    ["a@b.com\u2028", /spaces/],
    // structure
    ["", /empty/],
    ["   ", /empty/],
    ["plainaddress", /needs an @/],
    ["a@b@c.com", /more than one @/],
    ["@b.com", /before the @ is empty/],
    ["a@", /domain after the @ is empty/],
    [".a@b.com", /start or end with a dot/],
    ["a.@b.com", /start or end with a dot/],
    ["a..b@c.com", /two dots/],
    ["a`b@c.com", /not allowed/],
    ["müller@example.com", /must be ASCII/],
    ["ıke@example.org", /must be ASCII/],
    // domains
    ["a@[127.0.0.1]", /IP-address literals/],
    ["a@[IPv6:::1]", /IP-address literals/],
    ["a@127.0.0.1", /IP addresses/],
    ["a@localhost", /two labels/],
    ["a@.b.com", /dot/],
    ["a@b.com.", /dot/],
    ["a@b..com", /dot/],
    ["a@-b.com", /hyphen/],
    ["a@b-.com", /hyphen/],
    ["a@b_c.com", /not allowed/],
    ["a@ex%41mple.com", /not allowed/],
    ["a@b.com:25", /not allowed/],
    ["a@b。com", /two labels|not allowed/],
    ["a@xn--zz.com", /punycode/],
    ["a@b.c0m1", /plain user@domain/],
    ["a@b.c", /plain user@domain/],
    // lengths
    [`${label(65)}@example.com`, /longer than 64/],
    [`a@${label(64)}.com`, /longer than 63/],
    [`a@${label(600)}.com`, /longer than 254/],
  ])("%j (%s)", (input, reason) => {
    const r = parseAddress(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe("maskAddress", () => {
  it.each([
    ["myname@company.org", "m*****@c******.org"],
    ["xx@0.co", "**@*.co"],
    ["test@authentik.local", "t***@a********.local"],
    ["a@sub.example.co.uk", "*@s**.e******.**.uk"],
    ["abc@xn--bcher-kva.example", "a**@x************.example"],
    ["no-at-sign", "***"],
    ["a@localhost", "***"],
    ["a@b@c.com", "***"],
    ["@b.com", "***"],
    ["a@b..com", "***"],
  ])("%j → %j", (input, masked) => {
    expect(maskAddress(input)).toBe(masked);
  });
});

describe("sanitizeDisplayName", () => {
  it.each([
    ["Eve Example", "Eve Example"],
    ["  Eve \t  Example  ", "Eve Example"],
    ["Eve\r\nBcc: victim@example.com", "Eve Bcc: victim@example.com"],
    ["Eve\u0000\u0007\u007f\u0085Example", "Eve Example"],
    ['"Eve" <evil@example.com>', "Eve evil@example.com"],
    ["back\\slash", "backslash"],
    ["abc\u202egpj.exe", "abcgpj.exe"],
    ["Doe, John", "Doe, John"],
    ["Zoë Ørsted 山田", "Zoë Ørsted 山田"],
    ["O'Brien", "O'Brien"],
    ["\r\n\t", ""],
  ])("%j → %j", (input, output) => {
    expect(sanitizeDisplayName(input)).toBe(output);
  });

  it("caps at 128 characters without splitting a surrogate pair", () => {
    expect(sanitizeDisplayName("x".repeat(500))).toHaveLength(128);
    const emoji = sanitizeDisplayName("😀".repeat(200));
    expect(Array.from(emoji)).toHaveLength(128);
    expect(emoji.isWellFormed()).toBe(true);
  });
});
