// FlowBinding: places a stage into a named flow at an order. A flow is the ordered set of
// bindings that share a flow name in one namespace.
import { z } from "zod";
import { dnsLabel, localObjectRef, statusBase, withCel } from "./common.ts";

export const intent = z.enum(["Setup", "Authenticate"]);
export const whenNoDevice = z.enum(["Deny", "Setup"]);

/** Exact absolute URLs: no wildcard, no user information, no query or fragment (checked in full at start). */
export const RETURN_TO_PATTERN = "^https?://[^*@/?#\\s\\\\]+(/[^?#\\s\\\\]*)?$";

export const hostedPages = z
  .strictObject({
    allowedReturnTo: z
      .array(z.string().max(2048).regex(new RegExp(RETURN_TO_PATTERN), "an exact https URL (origin and path)"))
      .max(32)
      .optional()
      .meta({
        description:
          "Where the hosted pages may send the browser back: exact origins and paths (https; http only for localhost), no wildcards. A start request's returnTo must match one entry of any binding of the flow.",
      }),
    brandingRef: localObjectRef.optional().meta({
      description:
        "ConfigMap in this namespace with the pages' branding (productName, logoUrl, accentColor, backgroundColor, footerLinks).",
    }),
  })
  .meta({ description: "The hosted sign-in pages of this binding's flow." });

export const flowBindingSpec = z
  .strictObject({
    flow: dnsLabel.meta({ description: "Name of the flow; RBAC grants `execute` on resource `flows` with this name." }),
    stageRef: withCel(localObjectRef, {
      rule: "self == oldSelf",
      message: "stageRef is immutable; create a new FlowBinding instead",
    }).meta({ description: "The EmailAuthenticatorStage in the same namespace. Immutable." }),
    order: z.int().min(0).max(10000).default(0),
    intent: intent
      .default("Setup")
      .meta({ description: "Setup enrolls an address; Authenticate sends a code to the user's confirmed device." }),
    whenNoDevice: whenNoDevice.optional().meta({
      description: "For Authenticate: deny the flow (default) or set an address up when the user has no device.",
    }),
    pages: hostedPages.optional(),
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "!has(self.whenNoDevice) || self.intent == 'Authenticate'",
        message: "whenNoDevice applies only to intent Authenticate",
        fieldPath: ".whenNoDevice",
      },
    ],
  });
export type FlowBindingSpec = z.output<typeof flowBindingSpec>;

export const flowBindingStatus = z.strictObject({ ...statusBase });
export type FlowBindingStatus = z.output<typeof flowBindingStatus>;
