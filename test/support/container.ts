/**
 * The engine as its image runs it, for the test files that can target it (GRAPHBOX_TEST_IMAGE set:
 * the corpus and the attack suites, `npm run test:image`). scripts/container.sh starts the container
 * with the documented least-privilege flags; the test talks to it over HTTP on a published port.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";

import { OPTIONS, type Config } from "../../src/config/options.ts";
import { Option } from "../../src/config/declare.ts";
import { PROJECT_ROOT } from "../../src/config/index.ts";

const run = promisify(execFile);

/** The image under test, or null: the tests then run the engine in their own process. */
export const TEST_IMAGE: string | null = process.env["GRAPHBOX_TEST_IMAGE"] || null;

/** Where the image keeps the engine and its data (image/Containerfile). */
export const IMAGE_PROJECT_ROOT = "/srv/graphbox";
export const IMAGE_DATA_DIR = "/var/lib/graphbox";
/** How a container reaches a server of the host's (podman's name for the bridge's gateway). */
export const HOST_FROM_CONTAINER = "host.containers.internal";

export interface Container {
  name: string;
  url: string;
  /** Runs a command inside the container (as the engine's user). */
  exec(...command: string[]): Promise<string>;
  /** The container, its volume and its cgroups removed. */
  remove(): Promise<void>;
}

/** The GRAPHBOX_* settings that give `overrides` (only what differs from the defaults). */
export function settingsOf(overrides: Partial<Config>): Record<string, string> {
  const env: Record<string, string> = {};
  const walk = (declared: Record<string, unknown>, wanted: Record<string, unknown>, path: string): void => {
    for (const [key, value] of Object.entries(wanted)) {
      const option = declared[key];
      if (option instanceof Option) {
        if (JSON.stringify(value) === JSON.stringify(option.default)) continue;
        const setting = option.kind.format(value);
        if (setting === null) throw new Error(`${path}${key}: no setting gives ${JSON.stringify(value)}`);
        env[option.env] = setting;
      } else if (option !== null && typeof option === "object" && !("read" in option) && typeof value === "object") {
        walk(option as Record<string, unknown>, (value ?? {}) as Record<string, unknown>, `${path}${key}.`);
      } else {
        throw new Error(`${path}${key} is not an option a container can be given`);
      }
    }
  };
  walk(OPTIONS as unknown as Record<string, unknown>, overrides as Record<string, unknown>, "");
  return env;
}

async function waitHealthy(container: Container, deadline: number): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(`${container.url}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    const state = (await run("podman", ["inspect", "--format", "{{.State.Status}}", container.name])).stdout.trim();
    if (state !== "running" || Date.now() > deadline) {
      const logs = await run("podman", ["logs", "--tail", "30", container.name]).then(
        (r) => r.stdout + r.stderr,
        () => "",
      );
      await container.remove();
      throw new Error(`the container ${container.name} is ${state}, not healthy:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts the image with `env` (and the tests' own: no API keys, on a port published on loopback only)
 * and `podmanOptions` after the documented ones.
 */
export async function startContainer(env: Record<string, string>, podmanOptions: string[] = []): Promise<Container> {
  if (TEST_IMAGE === null) throw new Error("GRAPHBOX_TEST_IMAGE is not set");
  const name = `graphbox-test-${randomUUID().slice(0, 8)}`;
  const settings = { GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC: "1", ...env };
  const args = ["run", name, "-p", "127.0.0.1::8000"];
  for (const [key, value] of Object.entries(settings)) args.push("-e", `${key}=${value}`);
  args.push(...podmanOptions);
  await run("bash", [`${PROJECT_ROOT}/scripts/container.sh`, ...args], {
    env: { ...process.env, GRAPHBOX_IMAGE: TEST_IMAGE },
  });
  const port = (await run("podman", ["port", name, "8000/tcp"])).stdout.trim().split(":").pop();
  const container: Container = {
    name,
    url: `http://127.0.0.1:${port}`,
    exec: async (...command) => (await run("podman", ["exec", name, ...command])).stdout,
    remove: async () => {
      await run("bash", [`${PROJECT_ROOT}/scripts/container.sh`, "rm", name]);
    },
  };
  await waitHealthy(container, Date.now() + 90_000);
  return container;
}

/** The TCP ports something listens on inside the container (its /proc/net/tcp and tcp6). */
export async function listeningPorts(container: Container): Promise<number[]> {
  const text = await container.exec("cat", "/proc/net/tcp", "/proc/net/tcp6");
  const ports = new Set<number>();
  for (const line of text.split("\n").slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state === "0A" && local) ports.add(parseInt(local.split(":").pop()!, 16));
  }
  return [...ports];
}
