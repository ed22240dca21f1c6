import { describe, expect, it } from "vitest";
import type { FlowStep } from "../flows/flow.ts";
import { enterStep } from "./steps.ts";

const step = (intent: FlowStep["intent"], whenNoDevice: FlowStep["whenNoDevice"] = "Deny"): FlowStep => ({
  binding: "b",
  stage: "email",
  order: 0,
  intent,
  whenNoDevice,
});
const device = { name: "email-abc", email: "saved@example.com" };

describe("enterStep", () => {
  it("authenticates with the saved device's address, never the application's", () => {
    expect(enterStep(step("Authenticate"), { id: "u", email: "other@example.com" }, device)).toEqual({
      kind: "send",
      mode: "Authenticate",
      address: "saved@example.com",
      device: "email-abc",
    });
  });

  it("denies, or falls through to setup, when the user has no device", () => {
    expect(enterStep(step("Authenticate", "Deny"), { id: "u" }, undefined)).toMatchObject({
      kind: "deny",
      code: "no_device",
    });
    expect(enterStep(step("Authenticate", "Setup"), { id: "u", email: "a@example.com" }, undefined)).toEqual({
      kind: "send",
      mode: "Setup",
      address: "a@example.com",
    });
    expect(enterStep(step("Authenticate", "Setup"), { id: "u" }, undefined)).toEqual({ kind: "ask_email" });
  });

  it("sets up with the known address, asks for one otherwise, and refuses a second device", () => {
    expect(enterStep(step("Setup"), { id: "u", email: "a@example.com" }, undefined)).toEqual({
      kind: "send",
      mode: "Setup",
      address: "a@example.com",
    });
    expect(enterStep(step("Setup"), { id: "u" }, undefined)).toEqual({ kind: "ask_email" });
    expect(enterStep(step("Setup"), { id: "u" }, device)).toMatchObject({ kind: "deny", code: "device_exists" });
  });

  it("names the flow that sets the authenticator up in a no_device denial", () => {
    expect(enterStep(step("Authenticate", "Deny"), { id: "u" }, undefined, "enroll-email")).toEqual({
      kind: "deny",
      code: "no_device",
      detail: "the user has no confirmed email device for stage email; flow enroll-email sets one up",
    });
  });
});
