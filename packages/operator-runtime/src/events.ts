// Kubernetes Events on our objects (events.k8s.io/v1), for `kubectl describe` and
// `kubectl get events`. Recording is best effort: a failed Event never fails a reconcile, though a
// busy API server's 429 or 5xx is retried briefly.
import { randomBytes } from "node:crypto";
import { eventsApi } from "./kube-api.ts";
import type { KubeClient } from "./kube-client.ts";
import { microTime } from "./kube-types.ts";
import type { Logger } from "pino";
import type { Clock } from "./clock.ts";
import { createOnce } from "./retry-transient.ts";

export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorder {
  record(
    target: EventTarget,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    action?: string,
  ): Promise<void>;
}

export function eventRecorder(
  kube: KubeClient,
  options: { component: string; instance: string; clock: Clock; log: Logger },
): EventRecorder {
  const api = eventsApi(kube);
  return {
    async record(target, type, reason, message, action = "Reconcile") {
      try {
        const request = {
          namespace: target.namespace,
          body: {
            metadata: { name: `${target.name}.${randomBytes(8).toString("hex")}`, namespace: target.namespace },
            eventTime: microTime(options.clock.now()),
            reportingController: options.component,
            reportingInstance: options.instance,
            action,
            type,
            reason,
            note: message.slice(0, 1024),
            regarding: {
              apiVersion: target.apiVersion,
              kind: target.kind,
              namespace: target.namespace,
              name: target.name,
              uid: target.uid,
            },
          },
        };
        await createOnce(() => api.createNamespacedEvent(request), options.clock);
      } catch (e) {
        options.log.warn({ err: e, reason }, "could not record an Event");
      }
    },
  };
}
