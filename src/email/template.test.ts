import { describe, expect, it } from "vitest";
import { compileTemplate, renderTemplate, TemplateError, type TemplateValues } from "./template.ts";

const values: TemplateValues = {
  code: "012345",
  expires_in_minutes: "30",
  user_name: "<b>Eve</b> & co",
  friendly_name: "Email",
  email: "e***@example.com",
};

describe("compileTemplate", () => {
  it("renders placeholders with or without spaces, escaping values in HTML only", () => {
    const html = compileTemplate("<p>Hi {{user_name}}, your code is {{ code }}.</p>", "html");
    expect(renderTemplate(html, values)).toBe("<p>Hi &#60;b&#62;Eve&#60;/b&#62; &#38; co, your code is 012345.</p>");
    const text = compileTemplate("Code: {{ code }} (valid {{ expires_in_minutes }} min) for {{ user_name }}", "text");
    expect(renderTemplate(text, values)).toBe("Code: 012345 (valid 30 min) for <b>Eve</b> & co");
  });

  it("refuses a template without the code", () => {
    expect(() => compileTemplate("Hello {{ user_name }}", "html")).toThrow(/needs \{\{ code \}\}/);
  });

  it("refuses unknown placeholders, naming them and the known ones", () => {
    expect(() => compileTemplate("{{ code }} {{ password }}", "text")).toThrow(
      /unknown placeholder \{\{ password \}\}; known: code,/,
    );
  });

  it("refuses unbalanced braces", () => {
    expect(() => compileTemplate("{{ code }} and {{ user_name }", "text")).toThrow(TemplateError);
    expect(() => compileTemplate("{{ code }} }}", "html")).toThrow(/unbalanced placeholder/);
  });

  it("refuses oversized templates", () => {
    expect(() => compileTemplate(`{{ code }}${"x".repeat(70_000)}`, "text")).toThrow(/larger than/);
  });
});
