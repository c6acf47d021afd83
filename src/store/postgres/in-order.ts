/**
 * Writes to one key (an execution's log, a thread's checkpoints) issued in call order. SQLite
 * runs each write to completion before the next call returns, so a caller that fires appends
 * without awaiting each gets them stored in the order it made them; over a pool of connections
 * two calls race, and the second could commit first (an event out of order, a checkpoint refused
 * as not newer). Calls on one key, from any store instance of this process on one database, wait
 * for the previous one; engines on other machines write other threads (the thread lock).
 */
const tails = new Map<string, Promise<void>>();

export function inOrder<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(key);
  const result = previous ? previous.then(work) : work();
  const tail: Promise<void> = result
    .then(
      () => undefined,
      () => undefined,
    )
    .then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
  tails.set(key, tail);
  return result;
}
