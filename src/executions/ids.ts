// The one definition of an execution id: 128 random bits as 32 lower-case hex characters. It
// names the execution's Secret, so anything else is refused where input enters (the HTTP
// layer parses once) and the brand carries that check through the domain.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { z } from "zod";

export type ExecutionId = string & { readonly __brand: "ExecutionId" };

/** The id's syntax as a regular-expression fragment, for documents that describe it. */
export const EXECUTION_ID_SYNTAX = "[0-9a-f]{32}";
const EXECUTION_ID = new RegExp(`^${EXECUTION_ID_SYNTAX}$`);

export const executionIdSchema = z
  .string()
  .regex(EXECUTION_ID)
  .transform((s) => s as ExecutionId);

export function parseExecutionId(value: string): ExecutionId | undefined {
  return EXECUTION_ID.test(value) ? (value as ExecutionId) : undefined;
}

export function newExecutionId(randomBytes: (size: number) => Buffer = cryptoRandomBytes): ExecutionId {
  return randomBytes(16).toString("hex") as ExecutionId;
}

/** Where an execution lives: its namespace (the stage's) and its id. */
export interface ExecutionRef {
  namespace: string;
  id: ExecutionId;
}
