// The generated crds/ folder as (path, text) pairs, shared by the generator and its drift test.
import { dump } from "js-yaml";
import { customResourceDefinition } from "./crd.ts";
import { allKinds } from "./v1alpha1/kinds.ts";

const HEADER = "# Generated from src/kinds by `npm run generate`. Do not edit.\n";

export function crdFiles(): { path: string; text: string }[] {
  return allKinds.map((kind) => ({
    path: `crds/${kind.plural}.yaml`,
    text: HEADER + dump(customResourceDefinition(kind), { lineWidth: 120, noRefs: true }),
  }));
}
