/**
 * `graphbox serve`: starts the engine of the Graphbox checkout this CLI belongs to, as `npm start`
 * does (setup when needed, then dist/server.js), and stops it on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { EXIT, UsageError } from "./exit-codes.ts";

/** packages/client/{src,dist}/cli/ → the repository's root. */
function checkout(): string | null {
  const root = fileURLToPath(new URL("../../../../", import.meta.url));
  try {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name?: unknown };
    return pkg.name === "graphbox" && existsSync(join(root, "scripts", "setup.sh")) ? root : null;
  } catch {
    return null;
  }
}

export async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string" }, host: { type: "string" } }, strict: true });
  const root = checkout();
  if (!root)
    throw new UsageError("serve starts the engine of a Graphbox checkout; this graphbox is installed apart from one");
  if (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) throw new UsageError("--port takes a port number");
  const env = {
    ...process.env,
    ...(values.port !== undefined ? { GRAPHBOX_PORT: values.port } : {}),
    ...(values.host !== undefined ? { GRAPHBOX_HOST: values.host } : {}),
  };
  const child = spawn("npm", ["start", "--silent"], { cwd: root, env, stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((done) => {
    child.on("error", () => done(EXIT.unreachable));
    child.on("exit", (status, signal) => done(status ?? (signal ? 0 : 1)));
  });
  process.off("SIGINT", forward);
  process.off("SIGTERM", forward);
  return code;
}
