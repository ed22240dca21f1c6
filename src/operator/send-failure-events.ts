// Send failures as Kubernetes Events on the stage: one Event per stage and reason, whose series
// count grows while failures keep coming (events.k8s.io/v1 `series`), instead of one Event per
// failed mail. The relay's reply is scrubbed of anything that looks like an address: a refused
// recipient often comes back quoted in it, and Events are readable by far more people than mail.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { type Clock, type EventTarget, eventsApi, type KubeClient, microTime } from "@emailauth/operator-runtime";
import { createOnce, isNotFound, retryTransient } from "@emailauth/operator-runtime";
import type { SmtpSendReason } from "../email/mailer.ts";
import type { SendFailureReporter } from "../executions/sender.ts";

/** A failure later than this after the last one of its series starts a new Event. */
const SERIES_WINDOW_MS = 10 * 60_000;
const MAX_SERIES = 1_000;

/** Replaces address-like words (and bracketed ones) in a relay's reply. */
export function scrubAddresses(text: string): string {
  return text.replace(/<?[^\s<>"'(),;:[\]]+@[^\s<>"'(),;:[\]]+>?/g, "<address>");
}

interface Series {
  /** Pending until the Event exists, so a failure that comes while it is created joins it. */
  name: Promise<string>;
  count: number;
  lastMs: number;
}

export function sendFailureEvents(
  kube: KubeClient,
  o: { component: string; instance: string; clock: Clock; log: Logger },
): SendFailureReporter {
  const api = eventsApi(kube);
  const series = new Map<string, Series>();
  const create = async (target: EventTarget, reason: SmtpSendReason, note: string, now: Date) => {
    const name = `${target.name}.${randomBytes(8).toString("hex")}`;
    const request = {
      namespace: target.namespace,
      body: {
        metadata: { name, namespace: target.namespace },
        eventTime: microTime(now),
        reportingController: o.component,
        reportingInstance: o.instance,
        action: "SendCode",
        type: "Warning",
        reason: "EmailSendFailed",
        note,
        regarding: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          namespace: target.namespace,
          name: target.name,
          uid: target.uid,
        },
      },
    };
    await createOnce(() => api.createNamespacedEvent(request), o.clock);
    return name;
  };
  return {
    async report(target, reason, detail) {
      const key = `${target.namespace}/${target.name}/${reason}`;
      const now = o.clock.now();
      const note = `${reason}: ${scrubAddresses(detail)}`.slice(0, 1024);
      try {
        const current = series.get(key);
        if (current && now.getTime() - current.lastMs < SERIES_WINDOW_MS) {
          const count = ++current.count;
          current.lastMs = now.getTime();
          try {
            const name = await current.name;
            // A merge patch of absolute values: repeating it after a lost answer changes nothing.
            // Only the series: an Event's note is immutable, so the series keeps its first one.
            await retryTransient(
              () =>
                api.patchNamespacedEvent({
                  namespace: target.namespace,
                  name,
                  body: { series: { count, lastObservedTime: microTime(now) } },
                }),
              { clock: o.clock },
            );
            return;
          } catch (e) {
            if (!isNotFound(e)) throw e; // expired by the API server: start a new series
          }
        }
        if (series.size >= MAX_SERIES) series.delete(series.keys().next().value as string);
        const name = create(target, reason, note, now);
        series.set(key, { name, count: 1, lastMs: now.getTime() });
        await name.catch((e: unknown) => {
          series.delete(key);
          throw e;
        });
      } catch (e) {
        o.log.warn({ err: e, reason }, "could not record a send-failure Event");
      }
    },
  };
}
