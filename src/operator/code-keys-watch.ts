// Every replica watches the code keyring Secret by name, so a rotation (or a hand edit) reaches
// its codes within a watch event instead of at the next periodic re-read.
import type { CodeKeys } from "../executions/hmac-key.ts";
import { DEFAULT_CODE_KEYRING_SECRET } from "../executions/hmac-key.ts";
import { type InformerDeps, singleObjectWatches } from "./informers.ts";

export function watchCodeKeys(
  deps: InformerDeps,
  namespace: string,
  keys: CodeKeys,
  name = DEFAULT_CODE_KEYRING_SECRET,
): { stop(): Promise<void> } {
  const watch = singleObjectWatches(deps)({ kind: "Secret", namespace, name }, () => void keys.changed());
  return { stop: () => watch.stop() };
}
