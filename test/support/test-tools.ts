/** The Python test tools (.venv-tools: schemathesis, langgraph-sdk), installed on first use. */
import { spawn } from "node:child_process";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../src/contract/paths.ts";

/** Runs scripts/setup-test-tools.sh; resolves to the tools' bin directory. */
export function installTestTools(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [join(PROJECT_ROOT, "scripts/setup-test-tools.sh")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out.trim().split("\n").at(-1)!)
        : reject(new Error(`setup-test-tools.sh exited ${code}: ${err}`)),
    );
  });
}
