/**
 * What the page knows about one run, folded from the stream's events (CONTRACT.md's table). Pure:
 * `applyEvent(view, event)` returns a new view, so React re-renders what changed. Node names are
 * the program's: they stay values in Maps and arrays, never object keys.
 */

export type NodeState = "idle" | "running" | "done" | "error" | "interrupted";
export type RunStatus = "idle" | "running" | "success" | "error" | "interrupted";

export interface NodeEntry {
  kind: "node";
  node: string;
  step: number;
  /** Milliseconds from the run's start. */
  at: number;
  duration_ms: number | null;
  tokens: number | null;
  status: "running" | "ok" | "error" | "interrupted";
}

export type TimelineEntry =
  | NodeEntry
  | { kind: "llm"; node: string | null; text: string; at: number }
  | { kind: "custom"; data: unknown; at: number }
  | { kind: "interrupt"; next: string[]; values: unknown[]; at: number }
  | { kind: "error"; message: string; at: number }
  | { kind: "logs"; text: string; at: number };

export interface StepUpdate {
  node: string;
  step: number | null;
  update: unknown;
}

export interface RunError {
  message: string;
  errorType: string;
  node: string | null;
  traceback: string | null;
}

export interface Interrupt {
  next: string[];
  interrupts: { id: string; value: unknown }[];
}

export interface RunView {
  status: RunStatus;
  startedAt: number;
  executionId: string | null;
  threadId: string | null;
  runtime: string | null;
  nodes: ReadonlyMap<string, NodeState>;
  timeline: TimelineEntry[];
  updates: StepUpdate[];
  /** The answer's `result` (complete event), or the error's metadata. */
  result: { state: unknown; messages: unknown[] } | null;
  metadata: Record<string, unknown> | null;
  error: RunError | null;
  interrupt: Interrupt | null;
}

export const idleRun = (): RunView => ({
  status: "idle",
  startedAt: 0,
  executionId: null,
  threadId: null,
  runtime: null,
  nodes: new Map(),
  timeline: [],
  updates: [],
  result: null,
  metadata: null,
  error: null,
  interrupt: null,
});

export const startRun = (now: number): RunView => ({ ...idleRun(), status: "running", startedAt: now });

type Data = Record<string, unknown>;

const isRecord = (value: unknown): value is Data =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const num = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);
/** A field by a program-chosen name, read as an own property (`__proto__` included), never through the prototype. */
const own = (record: Data, key: string): unknown => Object.getOwnPropertyDescriptor(record, key)?.value;

function withNode(view: RunView, node: string, state: NodeState): ReadonlyMap<string, NodeState> {
  const nodes = new Map(view.nodes);
  nodes.set(node, state);
  return nodes;
}

/** The last node entry of `node` at `step` still open, from the end (a loop runs a node more than once). */
function openEntry(timeline: TimelineEntry[], node: string, step: number | null): number {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const entry = timeline[i]!;
    if (entry.kind === "node" && entry.node === node && (step === null || entry.step === step)) return i;
  }
  return -1;
}

function parseInterrupt(data: Data): Interrupt {
  const next = Array.isArray(data.next) ? data.next.filter((n): n is string => typeof n === "string") : [];
  const interrupts = Array.isArray(data.interrupts)
    ? data.interrupts.filter(isRecord).map((i) => ({ id: text(i.id) ?? "", value: i.value }))
    : [];
  return { next, interrupts };
}

/** Folds one event into the run. `at` is milliseconds since the run started. */
export function applyEvent(view: RunView, event: { event: string; data: unknown }, at: number): RunView {
  const data = isRecord(event.data) ? event.data : {};
  switch (event.event) {
    case "metadata": {
      const nodes = withNode(view, "__start__", "done");
      return {
        ...view,
        nodes,
        executionId: text(data.execution_id),
        threadId: text(data.thread_id),
        runtime: text(data.runtime),
      };
    }
    case "node_start": {
      const node = text(data.node);
      if (node === null) return view;
      const entry: NodeEntry = {
        kind: "node",
        node,
        step: num(data.step) ?? 0,
        at,
        duration_ms: null,
        tokens: null,
        status: "running",
      };
      return { ...view, nodes: withNode(view, node, "running"), timeline: [...view.timeline, entry] };
    }
    case "node_end": {
      const node = text(data.node);
      if (node === null) return view;
      const timeline = [...view.timeline];
      const index = openEntry(timeline, node, num(data.step));
      if (index >= 0) {
        const entry = timeline[index] as NodeEntry;
        timeline[index] = { ...entry, duration_ms: num(data.duration_ms), status: "ok" };
      }
      return { ...view, nodes: withNode(view, node, "done"), timeline };
    }
    case "update": {
      const node = text(data.node);
      if (node === null) return view;
      // The update sits under the node's name, or under `update` when the node is named `type` or `node`.
      const update = node === "type" || node === "node" ? data.update : own(data, node);
      const index = openEntry(view.timeline, node, null);
      const step = index >= 0 ? (view.timeline[index] as NodeEntry).step : null;
      return { ...view, updates: [...view.updates, { node, step, update }] };
    }
    case "token": {
      const node = text(data.node);
      const content = text(data.content) ?? "";
      const last = view.timeline[view.timeline.length - 1];
      // Consecutive deltas of one node read as one text.
      if (last?.kind === "llm" && last.node === node) {
        return { ...view, timeline: [...view.timeline.slice(0, -1), { ...last, text: last.text + content }] };
      }
      return { ...view, timeline: [...view.timeline, { kind: "llm", node, text: content, at }] };
    }
    case "custom":
      return { ...view, timeline: [...view.timeline, { kind: "custom", data: data.data, at }] };
    case "interrupt": {
      const interrupt = parseInterrupt(data);
      const nodes = new Map(view.nodes);
      for (const node of interrupt.next) nodes.set(node, "interrupted");
      const timeline = view.timeline.map((entry) =>
        entry.kind === "node" && interrupt.next.includes(entry.node) && entry.status !== "error"
          ? { ...entry, status: "interrupted" as const }
          : entry,
      );
      timeline.push({ kind: "interrupt", next: interrupt.next, values: interrupt.interrupts.map((i) => i.value), at });
      return { ...view, nodes, interrupt, timeline };
    }
    case "complete":
      return finish(view, data, at);
    case "error":
      return fail(view, data, at);
    default:
      return view;
  }
}

function withMetadata(view: RunView, metadata: Data | null, at: number): RunView {
  if (metadata === null) return view;
  // The engine's per-node tokens arrive with the answer: put them on the timeline's node entries.
  const timings = Array.isArray(metadata.node_timings) ? metadata.node_timings.filter(isRecord) : [];
  const timeline = view.timeline.map((entry) => {
    if (entry.kind !== "node") return entry;
    const timing = timings.find((t) => t.node === entry.node && t.step === entry.step);
    return timing
      ? { ...entry, tokens: num(timing.tokens), duration_ms: num(timing.duration_ms) ?? entry.duration_ms }
      : entry;
  });
  const logs = text(metadata.logs);
  if (logs) timeline.push({ kind: "logs", text: logs, at });
  return { ...view, metadata, timeline, threadId: text(metadata.thread_id) ?? view.threadId };
}

function finish(view: RunView, data: Data, at: number): RunView {
  const result = isRecord(data.result) ? data.result : {};
  const status = data.status === "interrupted" ? "interrupted" : "success";
  const nodes = new Map(view.nodes);
  if (status === "success") nodes.set("__end__", "done");
  const metadata = isRecord(result.metadata) ? result.metadata : null;
  const done: RunView = {
    ...view,
    status,
    nodes,
    result: { state: result.state, messages: Array.isArray(result.messages) ? result.messages : [] },
    interrupt: status === "interrupted" ? (view.interrupt ?? (metadata ? parseInterrupt(metadata) : null)) : null,
  };
  return withMetadata(done, metadata, at);
}

function fail(view: RunView, data: Data, at: number): RunView {
  const node = text(data.node);
  const nodes = new Map(view.nodes);
  for (const [name, state] of nodes) if (state === "running") nodes.set(name, "idle");
  if (node !== null) nodes.set(node, "error");
  const timeline = view.timeline.map((entry) =>
    entry.kind === "node" && entry.node === node && entry === view.timeline[openEntry(view.timeline, entry.node, null)]
      ? { ...entry, status: "error" as const }
      : entry,
  );
  const message = text(data.error) ?? "the run failed";
  timeline.push({ kind: "error", message, at });
  const failed: RunView = {
    ...view,
    status: "error",
    nodes,
    timeline,
    error: {
      message,
      errorType: text(data.error_type) ?? "internal_error",
      node,
      traceback: text(data.traceback),
    },
  };
  return withMetadata(failed, isRecord(data.metadata) ? data.metadata : null, at);
}

/**
 * The program's line a traceback points at: Python lists frames outermost first (`"<workflow>", line N`,
 * the last is where it raised), V8 innermost first (`<workflow>:N:M`, the first is).
 */
export function programLine(traceback: string | null): number | null {
  if (!traceback) return null;
  const python = [...traceback.matchAll(/"<workflow>", line (\d+)/g)];
  const last = python[python.length - 1];
  if (last) return Number(last[1]);
  const js = /<workflow>:(\d+):\d+/.exec(traceback);
  return js ? Number(js[1]) : null;
}
