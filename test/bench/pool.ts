// Runs `total` tasks with at most `concurrency` in flight, reporting progress now and then.
export async function runPool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  progress?: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const step = Math.max(1, Math.ceil(total / 10));
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await task(i);
      done++;
      if (progress && (done % step === 0 || done === total)) progress(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Counts failed tasks instead of stopping at the first; keeps the first error to show. */
export class Failures {
  count = 0;
  first?: string;

  wrap(task: (i: number) => Promise<void>): (i: number) => Promise<void> {
    return async (i) => {
      try {
        await task(i);
      } catch (e) {
        this.count++;
        this.first ??= e instanceof Error ? e.message : String(e);
      }
    };
  }
}
