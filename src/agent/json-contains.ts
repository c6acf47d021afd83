/**
 * PostgreSQL's JSONB containment (`have @> want`), which LangGraph's servers use to filter threads
 * by their values: every key of an object is there with a contained value, every element of an
 * array is contained in some element of the other, anything else is equal.
 */
const MAX_DEPTH = 64;

export function jsonContains(have: unknown, want: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(want)) {
    if (!Array.isArray(have)) return false;
    return want.every((w) => have.some((h) => jsonContains(h, w, depth + 1)));
  }
  if (typeof want === "object" && want !== null) {
    if (typeof have !== "object" || have === null || Array.isArray(have)) return false;
    const object = have as Record<string, unknown>;
    return Object.entries(want).every(
      ([key, w]) => Object.hasOwn(object, key) && jsonContains(object[key], w, depth + 1),
    );
  }
  return have === want;
}
