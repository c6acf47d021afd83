/**
 * A run's stored events as LangGraph's Agent Server streams them: `metadata` `{run_id, attempt}`
 * first, then one event per chunk named after its stream mode (`values`, `updates`, `messages`,
 * ..., a subgraph's as `mode|namespace`), and `error` `{error, message}` when the run failed. The
 * engine's own events (node_start, token, ...) stay in the execution's stream.
 *
 * A namespace is the program's (its node names): any character outside printable ASCII, `%` and
 * `|` are percent-encoded in the event name, so a program's string never breaks an SSE line nor
 * makes one segment read as two (LangGraph reserves `|` in names; a forged chunk need not).
 */
import type { ExecutionEvent, TerminalEvent } from "../contract/types.ts";
import type { StoredEvent } from "../store/types.ts";
import type { RunStreamMode } from "./run-request.ts";

export interface SseFrame {
  /** The frame's place in the run's stream, from "0", as LangGraph's servers number them (ids are strings). */
  id: string;
  event: string;
  /** One line of JSON. */
  data: string;
}

const encodeSegment = (segment: string): string =>
  segment.replace(
    /[^\x21-\x24\x26-\x7b\x7d\x7e]/gu,
    (c) => "%" + [...Buffer.from(c, "utf8")].map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join("%"),
  );

const eventName = (mode: string, ns: string[]): string =>
  ns.length === 0 ? mode : `${mode}|${ns.map(encodeSegment).join("|")}`;

/** The `error` event's fields from the engine's error envelope: the exception's class when the message starts with it. */
export function runError(terminal: { error: string; error_type: string }): { error: string; message: string } {
  const match = /^([A-Za-z_][A-Za-z0-9_.]*): ([\s\S]*)$/u.exec(terminal.error);
  if (match && terminal.error_type === "program_error") return { error: match[1]!, message: match[2]! };
  return { error: terminal.error_type, message: terminal.error };
}

type MessageTuple = [Record<string, unknown>, Record<string, unknown>];
/** Makes the next frame: its name, and its data (or the data's JSON text as given). */
type Framer = (name: string, data: unknown, json?: string) => SseFrame;

/**
 * Turns one run's stored events into LangGraph's SSE frames, in order, numbered from 0. It is a
 * pure function of the log and the modes, so a client re-joining after frame N is served by
 * translating the log again from its start and sending the frames after N.
 */
export class RunStreamTranslator {
  private readonly modes: Set<RunStreamMode>;
  /** The `messages` mode's messages so far by id: each partial event carries the whole message. */
  private readonly partial = new Map<string, Record<string, unknown>>();
  /** The ids of the messages a `messages/complete` event has carried. */
  private readonly completed = new Set<string>();
  private count = 0;

  constructor(
    private readonly runId: string,
    modes: RunStreamMode[],
  ) {
    this.modes = new Set(modes);
  }

  translate(stored: StoredEvent): SseFrame[] {
    const event = stored.data as ExecutionEvent | TerminalEvent;
    const frame = (name: string, data: unknown, json = JSON.stringify(data)): SseFrame => ({
      id: String(this.count++),
      event: name,
      data: json,
    });
    switch (event.type) {
      case "metadata":
        return [frame("metadata", { run_id: this.runId, attempt: 1 })];
      case "error":
        // A cancelled run's stream just ends, as on LangGraph's servers.
        return event.error_type === "cancelled" ? [] : [frame("error", runError(event))];
      case "chunk": {
        if (event.mode !== "messages") {
          // `values` is always recorded (wait and join answer with it); streamed only when asked for.
          const frames = this.modes.has(event.mode) ? [frame(eventName(event.mode, event.ns), event.data)] : [];
          if (event.mode === "values" && event.ns.length === 0 && this.modes.has("messages"))
            frames.push(...this.completeFrames(event.data, frame));
          return frames;
        }
        const frames: SseFrame[] = [];
        if (this.modes.has("messages-tuple")) frames.push(frame(eventName("messages", event.ns), event.data));
        if (this.modes.has("messages")) frames.push(...this.partialFrames(event.data, event.ns, frame));
        return frames;
      }
      default:
        return [];
    }
  }

  /**
   * `messages/complete` with the messages of the graph's state not completed before, as LangGraph's
   * JS server derives them from each `values` chunk: the input's first, a model's answer once its
   * node has written it.
   */
  private completeFrames(data: unknown, frame: Framer): SseFrame[] {
    const messages = typeof data === "object" && data !== null ? (data as Record<string, unknown>)["messages"] : null;
    if (!Array.isArray(messages)) return [];
    const fresh = messages.filter((message: unknown): message is Record<string, unknown> => {
      if (typeof message !== "object" || message === null) return false;
      const id = (message as Record<string, unknown>)["id"];
      if (typeof id !== "string" || this.completed.has(id)) return false;
      this.completed.add(id);
      return true;
    });
    return fresh.length > 0 ? [frame("messages/complete", fresh)] : [];
  }

  /** `messages/metadata` the first time a message is seen, then `messages/partial` with the message so far. */
  private partialFrames(data: unknown, ns: string[], frame: Framer): SseFrame[] {
    if (!Array.isArray(data) || data.length !== 2) return [];
    const [chunk, metadata] = data as MessageTuple;
    if (typeof chunk !== "object" || chunk === null) return [];
    const messageId = typeof chunk["id"] === "string" ? chunk["id"] : null;
    if (messageId === null) return [];
    const frames: SseFrame[] = [];
    const before = this.partial.get(messageId);
    // `{<message id>: {metadata}}`, written out: the id is the program's, never an object key here.
    if (!before)
      frames.push(
        frame(
          eventName("messages/metadata", ns),
          null,
          `{${JSON.stringify(messageId)}:${JSON.stringify({ metadata })}}`,
        ),
      );
    const merged = before ? mergeChunk(before, chunk) : { ...chunk };
    this.partial.set(messageId, merged);
    frames.push(frame(eventName("messages/partial", ns), [merged]));
    return frames;
  }
}

/** A message chunk added to the message so far, as LangChain's `AIMessageChunk.concat` does for text. */
function mergeChunk(before: Record<string, unknown>, chunk: Record<string, unknown>): Record<string, unknown> {
  const content =
    typeof before["content"] === "string" && typeof chunk["content"] === "string"
      ? before["content"] + chunk["content"]
      : chunk["content"];
  return { ...before, ...chunk, content };
}
