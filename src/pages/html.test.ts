import { describe, expect, it } from "vitest";
import { escapeHtml, html } from "./html.ts";

describe("html", () => {
  it("escapes every interpolated string", () => {
    const name = `"><script>alert('x')</script>&\``;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      `<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&#96;</p>`,
    );
  });

  it("nests templates without escaping them twice, and escapes strings inside arrays", () => {
    const items = ["<a>", "b&c"].map((s) => html`<li>${s}</li>`);
    // prettier-ignore
    expect(html`<ul>${items}</ul>`.value).toBe("<ul><li>&lt;a&gt;</li><li>b&amp;c</li></ul>");
    expect(html`${["<x>", html`<y></y>`]}`.value).toBe("&lt;x&gt;<y></y>");
  });

  it("renders nothing for false, true, null and undefined, and numbers as text", () => {
    expect(html`[${false}${null}${undefined}${true}${0}${42}]`.value).toBe("[042]");
  });

  it("does not treat look-alike objects as safe", () => {
    const fake = { value: "<b>" } as unknown as string;
    expect(html`${fake}`.value).toBe("[object Object]");
  });

  it("escapeHtml leaves ordinary text alone", () => {
    expect(escapeHtml("Grüße, 123 ü")).toBe("Grüße, 123 ü");
  });
});
