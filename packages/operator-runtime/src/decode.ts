// Turning the raw JSON the API server sends into the typed objects a cache holds, once, on the
// way in: a zod schema (or anything with zod's `safeParse` shape) or a function that returns
// the object or an Error. A decoder that throws counts as a failure rather than a crash.
import type { KubernetesObject } from "./kube-types.ts";

/** What a cache needs of an object: where it lives and which version it is. */
export interface Keyed {
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

interface Issue {
  readonly path?: readonly PropertyKey[];
  readonly message: string;
}

/** zod's `safeParse` result shape; zod is not imported, so it stays an optional peer. */
export interface SafeParser<T> {
  safeParse(
    input: unknown,
  ): { success: true; data: T } | { success: false; error: { message: string; issues?: readonly Issue[] } };
}

export type DecodeFunction<T> = (raw: KubernetesObject) => T | Error;

export type Decoder<T> = SafeParser<T> | DecodeFunction<T>;

export type Decoded<T> = { readonly ok: true; readonly object: T } | { readonly ok: false; readonly error: Error };

const IDENTITY = ["name", "namespace", "uid", "resourceVersion"] as const;

/**
 * Decodes `raw`. The decoded object must keep the raw object's name, namespace, uid and
 * resourceVersion (with zod, a loose object for metadata); one that does not is a failure too.
 * Error messages list each problem with its path, never the offending values, so that they are
 * safe to log and to put into status.
 */
export function decodeWith<T extends Keyed>(decoder: Decoder<T>, raw: KubernetesObject): Decoded<T> {
  let result: T | Error;
  try {
    if (typeof decoder === "function") {
      result = decoder(raw);
    } else {
      const parsed = decoder.safeParse(raw);
      result = parsed.success ? parsed.data : new Error(describeIssues(parsed.error));
    }
  } catch (err) {
    result = err instanceof Error ? err : new Error(String(err));
  }
  if (result instanceof Error) return { ok: false, error: result };
  // The cache keys by name and namespace and tells changes apart by uid and resourceVersion; a
  // schema that strips them (a strict zod object for metadata) would make relists blind.
  const [want, got] = [raw.metadata, result.metadata];
  const lost = IDENTITY.filter((field) => (got?.[field] ?? "") !== (want?.[field] ?? ""));
  if (lost.length > 0)
    return {
      ok: false,
      error: new Error(`the decoder changed or dropped ${lost.map((f) => `metadata.${f}`).join(", ")}`),
    };
  return { ok: true, object: result };
}

function describeIssues(error: { message: string; issues?: readonly Issue[] }): string {
  if (!error.issues?.length) return error.message;
  return error.issues
    .map((i) => {
      const path = (i.path ?? []).map(String).join(".");
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join("; ");
}
