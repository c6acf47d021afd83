/**
 * The image as an operator runs it (`npm run test:image`, GRAPHBOX_TEST_IMAGE set): started by
 * scripts/container.sh with the documented least-privilege flags, the engine inside is not root,
 * its sandboxes hold with every protection, its health check passes, SIGTERM stops it cleanly,
 * and removing it leaves nothing behind. The corpus and the attack suites run against it too.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { test } from "node:test";

import { startContainer, TEST_IMAGE, type Container } from "../support/container.ts";
import { hostProcesses } from "../support/processes.ts";
import { PYTHON_OK } from "../support/programs.ts";

const run = promisify(execFile);
assert.ok(TEST_IMAGE, "set GRAPHBOX_TEST_IMAGE to the image to test (npm run test:image does)");

async function podman(...args: string[]): Promise<string> {
  return (await run("podman", args)).stdout.trim();
}

/** A process's memory cgroup path, as the host sees it ("" once it is gone). */
function memoryCgroupOf(pid: number | string): string {
  try {
    return /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1] ?? "";
  } catch {
    return "";
  }
}

/** The host's processes in the container's cgroup or in its sandboxes' (under its delegated cgroup). */
function processesOf(name: string, containerCgroup: string | null = null): number[] {
  return hostProcesses()
    .map(({ pid }) => pid)
    .filter((pid) => {
      const cgroup = memoryCgroupOf(pid);
      return cgroup.startsWith(`/graphbox/${name}/`) || (containerCgroup !== null && cgroup === containerCgroup);
    });
}

async function leftovers(container: Container): Promise<string[]> {
  const found: string[] = [];
  if ((await podman("ps", "--all", "--filter", `name=^${container.name}$`, "--format", "{{.Names}}")) !== "")
    found.push("the container");
  if ((await podman("volume", "ls", "--filter", `name=^${container.name}-data$`, "--format", "{{.Name}}")) !== "")
    found.push("its volume");
  for (const hierarchy of ["memory", "pids"])
    if (existsSync(`/sys/fs/cgroup/${hierarchy}/graphbox/${container.name}`)) found.push(`its ${hierarchy} cgroup`);
  const processes = processesOf(container.name);
  if (processes.length > 0) found.push(`processes ${processes.join(", ")}`);
  return found;
}

test("the engine runs as an unprivileged user, with every protection, and answers the specification's request", async () => {
  const container = await startContainer({});
  try {
    // Every process of the container (tini, the engine, the fork server's sandbox), by its user on the host.
    const init = await podman("inspect", "--format", "{{.State.Pid}}", container.name);
    const processes = processesOf(container.name, memoryCgroupOf(init));
    assert.ok(processes.length >= 3, `${processes.length} processes`);
    for (const pid of processes) {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/);
      assert.deepEqual(uids, ["10001", "10001", "10001", "10001"], `not the engine's user: ${status.slice(0, 300)}`);
    }
    const status = await container.exec("cat", "/proc/1/status");
    assert.match(status, /^CapEff:\s+0+$/m, "PID 1 holds capabilities");
    assert.match(status, /^NoNewPrivs:\s+1$/m);

    const ready = (await (await fetch(`${container.url}/ready`)).json()) as {
      sandbox: { sandboxed: boolean; checks: { name: string; ok: boolean; detail: string }[] };
      warm_start: { python_fork_server: { state: string } };
    };
    assert.equal(ready.sandbox.sandboxed, true);
    for (const check of ready.sandbox.checks) assert.ok(check.ok, `${check.name}: ${check.detail}`);
    assert.equal(ready.warm_start.python_fork_server.state, "warm");

    // The doctor inside says the same, and so does the image's health check.
    const doctor = await container.exec("node", "dist/doctor.js");
    assert.match(doctor, /cgroups/);
    assert.doesNotMatch(doctor, /NOT enforced/);
    await podman("healthcheck", "run", container.name);

    const response = await fetch(`${container.url}/execute-langgraph`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: PYTHON_OK, inputs: { value: 1 }, config: { thread_id: "image-1" } }),
    });
    const body = (await response.json()) as { status: string; result: { state: { out: string } } };
    assert.equal(body.status, "success", JSON.stringify(body));
    assert.equal(body.result.state.out, "fine");

    // SIGTERM drains and ends the engine with status 0; the data volume keeps the thread.
    await podman("stop", "--time", "30", container.name);
    assert.equal(await podman("inspect", "--format", "{{.State.ExitCode}}", container.name), "0");
    assert.match(await podman("logs", container.name), /SIGTERM/);
  } finally {
    await container.remove();
  }
  assert.deepEqual(await leftovers(container), []);
});

test("without sandboxing the engine refuses to start: the runtime's default seccomp profile forbids naming the sandbox's host", async () => {
  await assert.rejects(
    startContainer({}, ["--security-opt", "seccomp=/usr/share/containers/seccomp.json"]),
    /cannot sandbox programs/,
  );
});

test("the image was built by scripts/image.sh with a health check, a volume and an unprivileged user", async () => {
  const [image] = JSON.parse(await podman("image", "inspect", TEST_IMAGE!)) as {
    Config: { User: string; Volumes: Record<string, unknown>; StopSignal: string };
    Healthcheck?: { Test: string[] };
  }[];
  const config = image!.Config;
  assert.equal(config.User, "10001:10001");
  assert.match(image!.Healthcheck?.Test.join(" ") ?? "", /\/health/);
  assert.deepEqual(Object.keys(config.Volumes), ["/var/lib/graphbox"]);
  assert.equal(config.StopSignal, "SIGTERM");
});
