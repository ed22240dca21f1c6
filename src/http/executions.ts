// The HTTP face of the execution domain: principals become actors, submissions become typed
// inputs, outcomes become views or problems. Handlers call this and stay transport-only.
import type { Clock } from "@emailauth/operator-runtime";
import type { ExecutionRef } from "../executions/ids.ts";
import type { ExecutionOutcome, Actor } from "../executions/outcomes.ts";
import type { ExecutionService, StartUser } from "../executions/service.ts";
import type { ExecutionApi, Principal } from "./app.ts";
import type { Caller } from "./auth.ts";
import { problemFor } from "./execution-problems.ts";
import type { ExecutionView } from "./schemas.ts";
import { toView } from "./view.ts";

export interface ExecutionApiOptions {
  /** The operator's public base URL, for absolute launch links (pageUrl). */
  publicUrl?: string | undefined;
}

export function executionApi(service: ExecutionService, clock: Clock, o: ExecutionApiOptions = {}): ExecutionApi {
  const answer = (outcome: ExecutionOutcome): ExecutionView => {
    if (!outcome.ok) throw problemFor(outcome.error, clock);
    const launch = outcome.launchToken ? { launchToken: outcome.launchToken, publicUrl: o.publicUrl } : undefined;
    return toView(outcome.execution, outcome.token, launch);
  };
  return {
    async start(
      caller: Caller,
      namespace: string,
      flow: string,
      body: { user: StartUser; returnTo?: string; state?: string },
    ) {
      const handOff = {
        ...(body.returnTo !== undefined ? { returnTo: body.returnTo } : {}),
        ...(body.state !== undefined ? { state: body.state } : {}),
      };
      return answer(await service.start(caller, namespace, flow, body.user, handOff));
    },
    async get(ref: ExecutionRef, principal: Principal) {
      return answer(await service.get(ref, actorOf(principal)));
    },
    async submit(ref, principal, body) {
      const input =
        body.email !== undefined
          ? ({ kind: "email", email: body.email } as const)
          : body.resend
            ? ({ kind: "resend" } as const)
            : ({ kind: "code", code: body.code ?? "" } as const);
      return answer(await service.submit(ref, actorOf(principal), input));
    },
  };
}

const actorOf = (p: Principal): Actor =>
  p.kind === "token" ? { kind: "token", token: p.token } : { kind: "application", app: p.caller };
