// Who is calling, and may they: Kubernetes bearer tokens checked with TokenReview, access
// checked with SubjectAccessReview (verb `execute` on `flows.emailauth.dev`, named by flow), so
// applications are granted access with ordinary Roles. Answers are cached briefly, keyed by a
// hash of the token (never the token itself).
import { createHash } from "node:crypto";
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { GROUP } from "../kinds/v1alpha1/common.ts";
import type { Clock } from "@emailauth/operator-runtime";

export interface Caller {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface AccessReviewer {
  authenticate(token: string): Promise<Caller | undefined>;
  mayExecute(caller: Caller, namespace: string, flow: string): Promise<boolean>;
}

const TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

export function kubernetesAccessReviewer(kc: KubeConfig, clock: Clock): AccessReviewer {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const identities = new TtlCache<Caller | undefined>(clock);
  const decisions = new TtlCache<boolean>(clock);
  return {
    async authenticate(token) {
      const key = createHash("sha256").update(token).digest("hex");
      return identities.getOrLoad(key, async () => {
        const review = await authn.createTokenReview({ body: { spec: { token } } });
        const s = review.status;
        if (!s?.authenticated || !s.user?.username) return undefined;
        return {
          username: s.user.username,
          ...(s.user.uid ? { uid: s.user.uid } : {}),
          groups: s.user.groups ?? [],
          ...(s.user.extra ? { extra: s.user.extra } : {}),
        };
      });
    },
    async mayExecute(caller, namespace, flow) {
      const key = JSON.stringify([caller.username, caller.uid, caller.groups, namespace, flow]);
      return decisions.getOrLoad(key, async () => {
        const review = await authz.createSubjectAccessReview({
          body: {
            spec: {
              user: caller.username,
              groups: caller.groups,
              ...(caller.uid ? { uid: caller.uid } : {}),
              ...(caller.extra ? { extra: caller.extra } : {}),
              resourceAttributes: { namespace, verb: "execute", group: GROUP, resource: "flows", name: flow },
            },
          },
        });
        return review.status?.allowed === true;
      });
    },
  };
}

class TtlCache<V> {
  readonly #entries = new Map<string, { at: number; value: V }>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.#clock.now().getTime();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < TTL_MS) return hit.value;
    const value = await load();
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear(); // bounded memory beats an LRU here
    this.#entries.set(key, { at: now, value });
    return value;
  }
}
