import { describe, expect, it } from "vitest";
import { DEFAULT_BRANDING, imageOrigins, parseBranding } from "./branding.ts";
import { contrastRatio } from "./contrast.ts";

describe("parseBranding", () => {
  it("reads a complete ConfigMap, footer links as YAML", () => {
    const r = parseBranding({
      productName: "Example Shop",
      logoUrl: "https://cdn.example.com/logo.svg",
      accentColor: "#0f766e",
      backgroundColor: "#ffffff",
      footerLinks:
        "- text: Privacy\n  url: https://example.com/privacy\n- text: Help\n  url: https://example.com/help\n",
    });
    expect(r).toEqual({
      ok: true,
      branding: {
        productName: "Example Shop",
        logoUrl: "https://cdn.example.com/logo.svg",
        accentColor: "#0f766e",
        backgroundColor: "#ffffff",
        footerLinks: [
          { text: "Privacy", url: "https://example.com/privacy" },
          { text: "Help", url: "https://example.com/help" },
        ],
      },
    });
    if (r.ok) expect(imageOrigins(r.branding)).toEqual(["https://cdn.example.com"]);
  });

  it("uses readable defaults without a ConfigMap", () => {
    expect(parseBranding(undefined)).toEqual({ ok: true, branding: DEFAULT_BRANDING });
    expect(contrastRatio(DEFAULT_BRANDING.accentColor, "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });

  it.each([
    ["a pale accent", { accentColor: "#ffeb3b" }, "accentColor: contrast with white is"],
    ["a dark background", { backgroundColor: "#000000" }, "backgroundColor: contrast with the footer text"],
    ["a colour name", { accentColor: "red" }, "accentColor must be a hex colour"],
    ["CSS injection in a colour", { accentColor: "#000;}body{display:none" }, "accentColor must be a hex colour"],
    ["a javascript logo", { logoUrl: "javascript:alert(1)" }, "logoUrl: must be an absolute https URL"],
    ["an http logo", { logoUrl: "http://cdn.example.com/l.png" }, "logoUrl: must be an absolute https URL"],
    ["a data footer link", { footerLinks: '[{"text":"x","url":"data:text/html,hi"}]' }, "footerLinks.0.url"],
    [
      "too many links",
      { footerLinks: JSON.stringify(Array(6).fill({ text: "a", url: "https://a.example" })) },
      "footerLinks",
    ],
    ["broken YAML", { footerLinks: "- [" }, "footerLinks: is not valid YAML"],
    ["a two-line product name", { productName: "A\nB" }, "productName: must be one line"],
    ["an unknown key", { accentColour: "#000000" }, "accentColour"],
  ])("refuses %s with a message naming the key", (_name, data, message) => {
    const r = parseBranding(data);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join("\n")).toContain(message);
  });
});

describe("contrastRatio", () => {
  it("matches the WCAG reference values", () => {
    expect(contrastRatio("#000", "#fff")).toBeCloseTo(21, 5);
    expect(contrastRatio("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
    expect(contrastRatio("#ffffff", "#ffffff")).toBe(1);
  });
});
