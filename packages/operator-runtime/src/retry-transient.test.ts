import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { createOnce, retryTransient } from "./retry-transient.ts";

const apiError = (code: number, reason: string) =>
  // KubeClient's error shape: code, body, headers.
  Object.assign(new Error(`HTTP ${code}`), {
    code,
    body: JSON.stringify({ kind: "Status", code, reason, message: reason }),
    headers: {},
  });

/** Runs `p` while moving the fake clock on in 100 ms steps, until it settles. */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 100 && !settled; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(100);
  }
  return p;
}

describe("retryTransient", () => {
  it("tries again after a 503 and a 429, waiting longer each time, and returns the answer", async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const failures = [apiError(503, "ServiceUnavailable"), apiError(429, "TooManyRequests")];
    const answer = await drive(
      clock,
      retryTransient(
        () => {
          at.push(clock.now().getTime());
          const failure = failures.shift();
          return failure ? Promise.reject(failure) : Promise.resolve("written");
        },
        { clock },
      ),
    );
    expect(answer).toBe("written");
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(200);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(400);
  });

  it("throws a 404 or 409 at once, and the last transient failure after the last try", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const notFound = apiError(404, "NotFound");
    await expect(
      retryTransient(
        () => {
          calls++;
          return Promise.reject(notFound);
        },
        { clock },
      ),
    ).rejects.toBe(notFound);
    expect(calls).toBe(1);

    calls = 0;
    const busy = apiError(500, "InternalError");
    await expect(
      drive(
        clock,
        retryTransient(
          () => {
            calls++;
            return Promise.reject(busy);
          },
          { clock, attempts: 3 },
        ),
      ),
    ).rejects.toBe(busy);
    expect(calls).toBe(3);
  });
});

describe("createOnce", () => {
  it("takes AlreadyExists on a retry as the earlier try having been written, but not on the first try", async () => {
    const clock = new FakeClock();
    const answers = [apiError(504, "Timeout"), apiError(409, "AlreadyExists")];
    let calls = 0;
    await drive(
      clock,
      createOnce(() => {
        calls++;
        const answer = answers.shift();
        return answer ? Promise.reject(answer) : Promise.resolve();
      }, clock),
    );
    expect(calls).toBe(2);

    const exists = apiError(409, "AlreadyExists");
    await expect(createOnce(() => Promise.reject(exists), clock)).rejects.toBe(exists);
  });
});
