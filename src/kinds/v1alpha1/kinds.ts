// The three kinds as the API server serves them: names, printer columns and schemas.
// crds/*.yaml is generated from this file (npm run generate); a test keeps them in step.
import type { z } from "zod";
import { emailDeviceSpec, emailDeviceStatus } from "./emaildevice.ts";
import { flowBindingSpec, flowBindingStatus } from "./flowbinding.ts";
import { stageSpec, stageStatus } from "./stage.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "boolean" | "date" | "number";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
  /** CEL rules on the whole object (they may read metadata.name). */
  objectRules?: { rule: string; message: string }[];
}

export const CATEGORY = "emailauth";

const ready: PrinterColumn[] = [
  { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
];
const trailing: PrinterColumn[] = [
  { name: "Message", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].message', priority: 1 },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

export const stageKind: KindDefinition = {
  kind: "EmailAuthenticatorStage",
  plural: "emailauthenticatorstages",
  singular: "emailauthenticatorstage",
  shortNames: ["eas"],
  description: "Sends one-time codes by email and saves the verified address as an EmailDevice.",
  spec: stageSpec,
  status: stageStatus,
  // Executions carry the stage's name as a label value, which Kubernetes caps at 63 characters.
  objectRules: [
    {
      rule: "self.metadata.name.size() <= 63",
      message: "a stage name is at most 63 characters (it labels the stage's executions)",
    },
  ],
  printerColumns: [
    ...ready,
    { name: "Endpoint", type: "string", jsonPath: ".status.connection.endpoint" },
    { name: "TLS", type: "string", jsonPath: ".status.connection.tlsMode" },
    { name: "Settings", type: "string", jsonPath: ".status.connection.source", priority: 1 },
    { name: "Expiry", type: "integer", jsonPath: ".spec.tokenExpiry", description: "Code lifetime in minutes" },
    { name: "Devices", type: "integer", jsonPath: ".status.deviceCount" },
    ...trailing,
  ],
};

export const flowBindingKind: KindDefinition = {
  kind: "FlowBinding",
  plural: "flowbindings",
  singular: "flowbinding",
  shortNames: ["fb"],
  description: "Binds an EmailAuthenticatorStage into a named flow at an order.",
  spec: flowBindingSpec,
  status: flowBindingStatus,
  printerColumns: [
    { name: "Flow", type: "string", jsonPath: ".spec.flow" },
    { name: "Order", type: "integer", jsonPath: ".spec.order" },
    { name: "Stage", type: "string", jsonPath: ".spec.stageRef.name" },
    { name: "Intent", type: "string", jsonPath: ".spec.intent" },
    ...ready,
    ...trailing,
  ],
};

export const emailDeviceKind: KindDefinition = {
  kind: "EmailDevice",
  plural: "emaildevices",
  singular: "emaildevice",
  shortNames: ["emaildev"],
  description: "A user's email address saved as an authenticator device for one stage.",
  spec: emailDeviceSpec,
  status: emailDeviceStatus,
  printerColumns: [
    { name: "Stage", type: "string", jsonPath: ".spec.stageRef.name" },
    { name: "User", type: "string", jsonPath: ".spec.user.id" },
    { name: "Email", type: "string", jsonPath: ".spec.email" },
    { name: "Confirmed", type: "boolean", jsonPath: ".spec.confirmed" },
    ...ready,
    ...trailing,
  ],
};

export const allKinds: readonly KindDefinition[] = [stageKind, flowBindingKind, emailDeviceKind];
