// Branding of the hosted pages, from a ConfigMap in the flow's namespace that the flow's
// FlowBinding names. Every value is validated (zod) before it reaches a page: colours must keep
// text readable (WCAG AA, 4.5:1) and URLs must be https, so a ConfigMap cannot break the
// accessibility or the Content-Security-Policy of the pages.
//
//   apiVersion: v1
//   kind: ConfigMap
//   data:
//     productName: Example Shop                 # shown above the form and in the <title>
//     logoUrl: https://cdn.example.com/logo.svg # optional; https (http only for loopback)
//     accentColor: "#1d4ed8"                    # buttons, links, focus ring; 4.5:1 against white
//     backgroundColor: "#f4f4f5"                # around the card; footer text must stay readable
//     footerLinks: |                            # optional, YAML or JSON, at most 5
//       - text: Privacy
//         url: https://example.com/privacy
import { load } from "js-yaml";
import { z } from "zod";
import { contrastRatio } from "./contrast.ts";

/** Colours the pages use themselves, against which a ConfigMap's colours are checked. */
export const CARD_COLOR = "#ffffff";
export const FOOTER_TEXT_COLOR = "#27272a";
export const MIN_CONTRAST = 4.5;

const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const PLAIN_TEXT = /^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$/;

const webUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);
      return (u.protocol === "https:" || (u.protocol === "http:" && loopback)) && !u.username && !u.password;
    } catch {
      return false;
    }
  }, "must be an absolute https URL (http only for localhost) without user information");

const text = (max: number) => z.string().trim().min(1).max(max).regex(PLAIN_TEXT, "must be one line of plain text");

const color = (what: string) => z.string().trim().regex(COLOR, `${what} must be a hex colour such as #1d4ed8`);

export const brandingSchema = z
  .strictObject({
    productName: text(64).default("Sign in"),
    logoUrl: webUrl.optional(),
    accentColor: color("accentColor").default("#1d4ed8"),
    backgroundColor: color("backgroundColor").default("#f4f4f5"),
    footerLinks: z
      .array(z.strictObject({ text: text(40), url: webUrl }))
      .max(5)
      .default([]),
  })
  .superRefine((b, ctx) => {
    // Runs even when a colour failed its own check; that one is already reported.
    if (!COLOR.test(b.accentColor) || !COLOR.test(b.backgroundColor)) return;
    const accent = contrastRatio(b.accentColor, CARD_COLOR);
    if (accent < MIN_CONTRAST)
      ctx.addIssue({
        code: "custom",
        path: ["accentColor"],
        message: `contrast with white is ${accent.toFixed(2)}:1; it needs ${MIN_CONTRAST}:1 for readable buttons and links`,
      });
    const footer = contrastRatio(b.backgroundColor, FOOTER_TEXT_COLOR);
    if (footer < MIN_CONTRAST)
      ctx.addIssue({
        code: "custom",
        path: ["backgroundColor"],
        message: `contrast with the footer text (${FOOTER_TEXT_COLOR}) is ${footer.toFixed(2)}:1; it needs ${MIN_CONTRAST}:1`,
      });
  });
export type Branding = z.output<typeof brandingSchema>;

export const DEFAULT_BRANDING: Branding = brandingSchema.parse({});

/** ConfigMap keys this format reads; anything else is refused so a typo is noticed. */
export const BRANDING_KEYS = ["productName", "logoUrl", "accentColor", "backgroundColor", "footerLinks"] as const;

export type BrandingResult = { ok: true; branding: Branding } | { ok: false; errors: string[] };

export function parseBranding(data: Readonly<Record<string, string>> | undefined): BrandingResult {
  const raw: Record<string, unknown> = { ...data };
  if (typeof raw.footerLinks === "string") {
    try {
      raw.footerLinks = load(raw.footerLinks) ?? [];
    } catch {
      return { ok: false, errors: ["footerLinks: is not valid YAML or JSON"] };
    }
  }
  const r = brandingSchema.safeParse(raw);
  if (r.success) return { ok: true, branding: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${i.path.join(".") || "(data)"}: ${i.message}`) };
}

/** Origins the Content-Security-Policy must allow images from. */
export function imageOrigins(b: Branding): string[] {
  return b.logoUrl ? [new URL(b.logoUrl).origin] : [];
}
