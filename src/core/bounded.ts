/**
 * Calls `fn` on each item with at most `limit` calls pending, pulling items only as slots free,
 * so an iterable of any length is never held whole. `fn` gets the item's position. The first
 * failure stops the pulling and is thrown once the pending calls have settled, so no call is
 * left running unobserved.
 */
export async function eachBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const pending = new Set<Promise<void>>();
  let failed: { error: unknown } | undefined;
  let index = 0;
  for await (const item of items) {
    const p: Promise<void> = fn(item, index++).then(
      () => void pending.delete(p),
      (error: unknown) => {
        pending.delete(p);
        failed ??= { error };
      },
    );
    pending.add(p);
    if (pending.size >= limit) await Promise.race(pending);
    if (failed) break;
  }
  await Promise.all(pending);
  if (failed) throw failed.error;
}
