// Which execution Secrets the sweeper deletes: those whose expiry annotation has passed. An
// unreadable annotation counts as expired, since nothing can use such an execution.
import type { Secret } from "@emailauth/operator-runtime";
import { EXPIRES_AT_ANNOTATION } from "../../kinds/labels.ts";

export function expiredExecutions(secrets: readonly Secret[], now: Date, max: number): Secret[] {
  return secrets
    .filter((s) => {
      const at = Date.parse(s.metadata?.annotations?.[EXPIRES_AT_ANNOTATION] ?? "");
      return Number.isNaN(at) || at <= now.getTime();
    })
    .slice(0, max);
}
