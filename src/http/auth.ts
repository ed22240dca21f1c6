// Who is calling, and may they: Kubernetes bearer tokens checked with TokenReview for this
// API's audiences (a token minted for the API server or another service is refused), access
// checked with SubjectAccessReview (verb `execute` on `flows.emailauth.dev`, named by flow), so
// applications are granted access with ordinary Roles. Answers are cached in bounded LRUs, keyed
// by a hash of the token (never the token itself); denials only briefly, so a new grant or a
// fresh token works within seconds.
import { createHash } from "node:crypto";
import { GROUP } from "../kinds/v1alpha1/common.ts";
import { type Clock, type KubeClient, reviewsApi } from "@emailauth/operator-runtime";
import { LruCache } from "./lru-cache.ts";

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

export const ALLOW_TTL_MS = 10_000;
export const DENY_TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

export interface AccessReviewerOptions {
  /** The token must be valid for at least one of these (TokenReview `spec.audiences`). */
  audiences: readonly string[];
  /** Called before a TokenReview the cache cannot answer; throws to refuse it (rate limits). */
  beforeTokenReview?: () => void;
  maxEntries?: number;
}

export function kubernetesAccessReviewer(kube: KubeClient, clock: Clock, o: AccessReviewerOptions): AccessReviewer {
  if (o.audiences.length === 0) throw new RangeError("at least one token audience is needed");
  const reviews = reviewsApi(kube);
  const maxEntries = o.maxEntries ?? MAX_ENTRIES;
  const identities = new LruCache<{ caller: Caller | undefined }>({
    maxEntries,
    clock,
    ttlMs: (v) => (v.caller ? ALLOW_TTL_MS : DENY_TTL_MS),
  });
  const decisions = new LruCache<boolean>({
    maxEntries,
    clock,
    ttlMs: (allowed) => (allowed ? ALLOW_TTL_MS : DENY_TTL_MS),
  });
  const audiences = [...o.audiences];
  return {
    async authenticate(token) {
      const key = createHash("sha256").update(token).digest("hex");
      const { caller } = await identities.getOrLoad(
        key,
        async () => {
          const review = await reviews.createTokenReview({ body: { spec: { token, audiences } } });
          const s = review.status;
          if (!s?.authenticated || !s.user?.username) return { caller: undefined };
          // The API server answers with the audiences the token is valid for; none of ours, no entry.
          if (!(s.audiences ?? []).some((a) => audiences.includes(a))) return { caller: undefined };
          return {
            caller: {
              username: s.user.username,
              ...(s.user.uid ? { uid: s.user.uid } : {}),
              groups: s.user.groups ?? [],
              ...(s.user.extra ? { extra: s.user.extra } : {}),
            },
          };
        },
        o.beforeTokenReview,
      );
      return caller;
    },
    async mayExecute(caller, namespace, flow) {
      const key = JSON.stringify([caller.username, caller.uid, caller.groups, caller.extra, namespace, flow]);
      return decisions.getOrLoad(key, async () => {
        const review = await reviews.createSubjectAccessReview({
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
