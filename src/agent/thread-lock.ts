/**
 * A thread's run lock held by the Agent API itself, around a change of the thread that is not a
 * run (`POST /threads/{id}/state`): while it is held no run starts on the thread, and while a run
 * holds it the change is refused, as LangGraph's server refuses it (409).
 */
import { randomUUID } from "node:crypto";

import { GraphboxError } from "../contract/errors.ts";
import { THREAD_LOCK_TTL_MS, type Engine } from "../engine/engine.ts";
import type { ThreadRef } from "../store/types.ts";

/** Runs `work` holding the thread's lock; GBX_ERR_THREAD_BUSY when another holds it. */
export async function withThreadLock<T>(engine: Engine, thread: ThreadRef, work: () => Promise<T>): Promise<T> {
  const holder = `agent-${randomUUID()}`;
  const locks = engine.store.threads;
  const lock = await locks.tryLock(thread, holder, THREAD_LOCK_TTL_MS);
  if (!lock.acquired)
    throw new GraphboxError(
      "GBX_ERR_THREAD_BUSY",
      `thread ${JSON.stringify(thread.threadId)} is busy with execution ${lock.heldBy}; retry when it has ended`,
    );
  // Renewed like an execution's: the work may start a sandbox and outlast one TTL.
  const renew = setInterval(() => {
    locks
      .tryLock(thread, holder, THREAD_LOCK_TTL_MS)
      .catch((err: unknown) => engine.observers.engineFault("thread_lock", err));
  }, THREAD_LOCK_TTL_MS / 3);
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await locks.unlock(thread, holder);
  }
}
