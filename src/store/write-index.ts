/**
 * LangGraph's `WRITES_IDX_MAP` (checkpoint/base/__init__.py, and the same in
 * @langchain/langgraph-checkpoint): writes to these channels are stored under a fixed negative
 * index, so that a retried task replaces its error or interrupt instead of adding a second one,
 * while ordinary writes keep their position in the task's list.
 */
export const SPECIAL_WRITE_INDEX: Readonly<Record<string, number>> = Object.freeze({
  __error__: -1,
  __scheduled__: -2,
  __interrupt__: -3,
  __resume__: -4,
});

/** The idx a checkpointer stores the `position`-th write of a task under. */
export function pendingWriteIndex(channel: string, position: number): number {
  return Object.hasOwn(SPECIAL_WRITE_INDEX, channel) ? (SPECIAL_WRITE_INDEX[channel] as number) : position;
}
