/** What the form holds, and the requests made from it: a run, a resume, a continue, a fork. */
import type { Breakpoint, ExecuteRequest, Language } from "./client.ts";

export interface Settings {
  code: string;
  language: Language;
  /** JSON text. */
  inputs: string;
  /** Empty: a new thread each run. */
  threadId: string;
  /** Node names, comma or space separated. */
  before: string;
  after: string;
  debug: boolean;
}

export const nodeList = (text: string): string[] => text.split(/[\s,]+/).filter((name) => name !== "");

export function breakpointMap(settings: Settings): Map<string, "before" | "after"> {
  const marks = new Map<string, "before" | "after">();
  for (const node of nodeList(settings.after)) marks.set(node, "after");
  for (const node of nodeList(settings.before)) marks.set(node, "before");
  return marks;
}

/** A click on a node: no breakpoint → before → after → none. */
export function cycleBreakpoint(settings: Settings, node: string): Pick<Settings, "before" | "after"> {
  const mark = breakpointMap(settings).get(node);
  const before = nodeList(settings.before).filter((n) => n !== node);
  const after = nodeList(settings.after).filter((n) => n !== node);
  if (mark === undefined) before.push(node);
  else if (mark === "before") after.push(node);
  return { before: before.join(", "), after: after.join(", ") };
}

function config(settings: Settings, threadId: string | null): NonNullable<ExecuteRequest["config"]> {
  const breakpoints: (string | Breakpoint)[] = [
    ...nodeList(settings.before),
    ...nodeList(settings.after).map((node): Breakpoint => ({ node, when: "after" })),
  ];
  return {
    ...(threadId ? { thread_id: threadId } : {}),
    ...(settings.debug ? { debug: true } : {}),
    ...(breakpoints.length > 0 ? { breakpoints } : {}),
  };
}

/** Thrown when the inputs box does not hold JSON: the page says so instead of sending. */
export class InputsError extends Error {}

export function runRequest(settings: Settings): ExecuteRequest {
  let inputs: unknown;
  try {
    inputs = settings.inputs.trim() === "" ? null : (JSON.parse(settings.inputs) as unknown);
  } catch (err: unknown) {
    throw new InputsError(`inputs: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return {
    code: settings.code,
    language: settings.language,
    inputs,
    config: config(settings, settings.threadId.trim() || null),
  };
}

/** After a pause: `resume` answers an interrupt(); without it, inputs null continues past a breakpoint. */
export function continueRequest(
  settings: Settings,
  options: { threadId: string; resume?: unknown; checkpointId?: string },
): ExecuteRequest {
  const request: ExecuteRequest = {
    code: settings.code,
    language: settings.language,
    inputs: null,
    config: {
      ...config(settings, options.threadId),
      ...(options.checkpointId ? { checkpoint_id: options.checkpointId } : {}),
    },
  };
  if ("resume" in options) request.resume = options.resume;
  return request;
}
