/**
 * Appends every item without spreading them into call arguments: a spread into `push` or
 * `Math.max` throws a RangeError past about 125,000 items (V8's argument limit), which a
 * large lock, manifest or listing reaches.
 */
export function pushAll<T>(into: T[], items: Iterable<T>): T[] {
  for (const item of items) into.push(item);
  return into;
}
