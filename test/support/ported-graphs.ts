/**
 * The graphs of langgraphjs's server tests (libs/langgraph-api/tests/graphs/), one program per file
 * in ported-graphs/ (`.mts` as upstream wrote them, `.py` their Python twins), registered per
 * runtime as `<name>-ts` and `<name>-py`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { registerProgram } from "./agent-programs.ts";

export const PORTED_GRAPH_NAMES = ["agent", "weather", "error", "delay", "simple_runtime"] as const;
export type PortedGraphName = (typeof PORTED_GRAPH_NAMES)[number];

export const PORTED_RUNTIMES = [
  { name: "ts", language: "typescript", extension: "mts" },
  { name: "py", language: "python", extension: "py" },
] as const;
export type PortedRuntime = (typeof PORTED_RUNTIMES)[number]["name"];

const DIR = join(import.meta.dirname, "ported-graphs");

/** Registers every ported graph in both runtimes for a key, in parallel. */
export async function registerPortedGraphs(options: { url: string; key: string }): Promise<void> {
  await Promise.all(
    PORTED_RUNTIMES.flatMap((runtime) =>
      PORTED_GRAPH_NAMES.map((name) =>
        registerProgram({
          ...options,
          graphId: `${name}-${runtime.name}`,
          code: readFileSync(join(DIR, `${name}.${runtime.extension}`), "utf8"),
          language: runtime.language,
        }),
      ),
    ),
  );
}
