// Two writes that do not depend on each other, made at once. Both are awaited before either
// failure is acted on (Promise.all would return at the first rejection and leave the other write
// in flight while the caller retries or answers); then the first rejection is thrown.
export async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [first, second] = await Promise.allSettled([a, b]);
  if (first.status === "rejected") throw first.reason;
  if (second.status === "rejected") throw second.reason;
  return [first.value, second.value];
}
