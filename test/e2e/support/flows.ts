// The documented flows of manifests/examples, run by the client Pod through the operator's
// Service: Setup ("enroll-email") and Authenticate ("sign-in") with the code from Mailpit.
import { expect } from "vitest";
import type { CallResult, ClientPod } from "./client-pod.ts";

export interface Mailbox {
  codeFor(to: string, after?: number): Promise<string>;
}

export interface Started {
  id: string;
  token: string;
  email: string;
}

export function start(client: ClientPod, flow: "enroll-email" | "sign-in", userId: string): Started {
  const email = `${userId}@example.com`;
  const res = client.call("POST", `/api/v1/namespaces/default/flows/${flow}/executions`, {
    user: { id: userId, email, name: `User ${userId}` },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.state).toBe("code_sent");
  return { id: res.body.id ?? "", token: res.body.token ?? "", email };
}

export function submitCode(client: ClientPod, started: Started, code: string): CallResult {
  return client.call("POST", `/api/v1/executions/${encodeURIComponent(started.id)}`, { code }, started.token);
}

/** Setup, then Authenticate with the device it created; returns the codes that were mailed. */
export async function enrollAndSignIn(client: ClientPod, mail: Mailbox, userId: string): Promise<string[]> {
  const enroll = start(client, "enroll-email", userId);
  const first = await mail.codeFor(enroll.email, 0);
  const enrolled = submitCode(client, enroll, first);
  expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
  expect(enrolled.body.state).toBe("completed");

  const signIn = start(client, "sign-in", userId);
  const second = await mail.codeFor(signIn.email, 1);
  const signedIn = submitCode(client, signIn, second);
  expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
  expect(signedIn.body.state).toBe("completed");
  expect(signedIn.body.result).toMatchObject({ user: userId, stage: "email-setup" });
  return [first, second];
}
