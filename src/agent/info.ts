/**
 * What `GET /info` answers, as LangGraph's servers answer it: the server's version, the LangGraph
 * it runs, and the features it has (assistants yes; crons and LangSmith tracing no).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { PROJECT_ROOT, SOURCE_ROOT } from "../contract/paths.ts";

/** LangGraph's JS server's fields in its order, and the Python runtime's LangGraph besides. */
export interface ServerInfo {
  version: string | null;
  langgraph_js_version: string | null;
  context: "js";
  langgraph_py_version: string | null;
  flags: { assistants: true; crons: false; langsmith: false; langsmith_tracing_replicas: true };
}

function packageVersion(path: string): string | null {
  try {
    const version = (JSON.parse(readFileSync(path, "utf8")) as { version?: unknown }).version;
    return typeof version === "string" ? version : null;
  } catch {
    return null;
  }
}

function pinnedVersion(lockFile: string, name: string): string | null {
  try {
    const line = readFileSync(lockFile, "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}==`));
    return line ? line.slice(name.length + 2).trim() : null;
  } catch {
    return null;
  }
}

let cached: ServerInfo | null = null;

/** Read once: the versions are those of the files installed beside the engine. */
export function serverInfo(): ServerInfo {
  cached ??= {
    version: packageVersion(join(PROJECT_ROOT, "package.json")),
    langgraph_js_version: packageVersion(
      join(SOURCE_ROOT, "runtimes/js/node_modules/@langchain/langgraph/package.json"),
    ),
    // LangGraph's JS server says "js"; Graphbox runs both languages and answers as the JS server, its reference.
    context: "js",
    langgraph_py_version: pinnedVersion(join(SOURCE_ROOT, "runtimes/python/requirements.lock"), "langgraph"),
    flags: { assistants: true, crons: false, langsmith: false, langsmith_tracing_replicas: true },
  };
  return cached;
}
