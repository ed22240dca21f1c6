// Which execution Secrets the sweeper deletes: those whose expiry annotation has passed. An
// unreadable annotation counts as expired, since nothing can use such an execution.
import type { KubernetesObject } from "@emailauth/operator-runtime";
import { EXPIRES_AT_ANNOTATION } from "../../kinds/labels.ts";

/** Reads metadata only, so a metadata-only list (or whole Secrets) will do. */
export function expiredExecutions<T extends KubernetesObject>(secrets: readonly T[], now: Date, max: number): T[] {
  return secrets
    .filter((s) => {
      const at = Date.parse(s.metadata?.annotations?.[EXPIRES_AT_ANNOTATION] ?? "");
      return Number.isNaN(at) || at <= now.getTime();
    })
    .slice(0, max);
}
