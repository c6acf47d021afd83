import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { optionsOf } from "../src/config/declare.ts";
import { ConfigError, loadConfig, OPTIONS, PROJECT_ROOT, type Config } from "../src/config/index.ts";
import { configurationSection, readmeConfigurationSection, withConfigurationSection } from "../src/config/readme.ts";
import { ERRORS } from "../src/contract/errors.ts";
import type { SandboxOptions } from "../src/sandbox/launcher.ts";

const MIB = 1024 * 1024;

/** Which problems loading `env` reports (none: the configuration it gives). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err: unknown) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
}

test("defaults bind loopback port 8000", () => {
  const config = loadConfig({});
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.defaultTimeoutMs, 60_000);
  assert.ok(Object.isFrozen(config));
});

test("the whole configuration is frozen, nested objects too", () => {
  const config = loadConfig({
    GRAPHBOX_MODEL_ALLOWLIST: "gpt-*",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318",
  });
  for (const part of [
    config.sandbox,
    config.gatewayLimits,
    config.openai,
    config.apiKeys,
    config.modelAllowlist,
    config.tracing,
  ])
    assert.ok(Object.isFrozen(part));
});

test("every problem is reported at once, by variable name", () => {
  try {
    loadConfig({
      GRAPHBOX_PORT: "eighty",
      GRAPHBOX_MAX_TIMEOUT_MS: "-5",
      OPENAI_BASE_URL: "ftp://x",
      GRAPHBOX_LOG_LEVEL: "loud",
      GRAPHBOX_PYTHON: "/nowhere/python",
    });
    assert.fail("expected a ConfigError");
  } catch (err: unknown) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join("\n");
    for (const name of [
      "GRAPHBOX_PORT",
      "GRAPHBOX_MAX_TIMEOUT_MS",
      "OPENAI_BASE_URL",
      "GRAPHBOX_LOG_LEVEL",
      "GRAPHBOX_PYTHON",
    ]) {
      assert.match(text, new RegExp(name), `${name} missing from: ${text}`);
    }
    assert.match(text, /npm run setup/);
  }
});

test("a setting its kind refuses is reported for every variable at once, saying what it expects", () => {
  const bad = "-1x";
  const refusing = optionsOf(OPTIONS).filter((option) => {
    try {
      option.kind.parse(bad);
      return false;
    } catch {
      return true;
    }
  });
  assert.ok(refusing.length > 40, `only ${refusing.length} options refuse ${bad}`);
  const problems = problemsOf(Object.fromEntries(refusing.map((option) => [option.env, bad])));
  for (const option of refusing) {
    const problem = problems.find((p) => p.startsWith(`${option.env}="${bad}": `));
    assert.ok(problem, `${option.env} missing from: ${problems.join("\n")}`);
    assert.match(problem, /: (expected |cannot read|the key named)/, problem);
  }
});

test("a database URL that is refused is quoted without its password", () => {
  for (const raw of ["mysql://app:s3cret-pw@db:3306/x", "postgres://app:s3cret-pw@/x", "app:s3cret-pw@db host"]) {
    const problems = problemsOf({ GRAPHBOX_DATABASE_URL: raw });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(problems[0] ?? "", /^GRAPHBOX_DATABASE_URL=".*\*\*\*@.*": expected|the URL names no host/);
    assert.ok(!problems[0]?.includes("s3cret-pw"), problems[0]);
  }
  const config = loadConfig({ GRAPHBOX_DATABASE_URL: "postgres://app:pw@db.internal:5433/graphbox" });
  assert.equal(config.databaseUrl, "postgres://app:pw@db.internal:5433/graphbox");
  assert.equal(config.databasePoolSize, 10);
  assert.equal(loadConfig({}).databaseUrl, null);
});

test("a default timeout above the maximum is refused", () => {
  assert.throws(
    () => loadConfig({ GRAPHBOX_DEFAULT_TIMEOUT_MS: "90000", GRAPHBOX_MAX_TIMEOUT_MS: "60000" }),
    /GRAPHBOX_DEFAULT_TIMEOUT_MS \(90000\) is above/,
  );
});

test("every variable is declared once", () => {
  const names = optionsOf(OPTIONS).map((option) => option.env);
  assert.deepEqual(
    names.filter((name, i) => names.indexOf(name) !== i),
    [],
  );
});

test("every default is a value its variable could be set to, within its bounds", () => {
  for (const option of optionsOf(OPTIONS)) {
    const setting = option.kind.format(option.default);
    if (setting === null) continue;
    assert.deepEqual(option.kind.parse(setting), option.default, option.env);
  }
});

test("config.sandbox is exactly what the sandbox launcher takes, sizes set in MiB held in bytes", () => {
  type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
  const same: Same<Config["sandbox"], Omit<SandboxOptions, "gatewaySocket">> = true;
  assert.ok(same);
  const { sandbox } = loadConfig({
    GRAPHBOX_SANDBOX_MEMORY_MB: "256",
    GRAPHBOX_SANDBOX_FILE_SIZE_MB: "8",
    GRAPHBOX_SANDBOX_TMP_MB: "100",
    GRAPHBOX_UNSAFE_NO_SANDBOX: "yes",
  });
  assert.deepEqual(sandbox, {
    memoryBytes: 256 * MIB,
    maxProcesses: 64,
    cpuSeconds: 60,
    fileSizeBytes: 8 * MIB,
    tmpSizeBytes: 100 * MIB,
    openFiles: 1024,
    unsafeNoSandbox: true,
  });
  assert.deepEqual(problemsOf({ GRAPHBOX_SANDBOX_MEMORY_MB: "63" }), [
    'GRAPHBOX_SANDBOX_MEMORY_MB="63": expected a whole number from 64 to 1048576',
  ]);
});

test("tracing is off without an endpoint; a traces setting wins over the general one, and both are checked", () => {
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).tracing, null);
  assert.deepEqual(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318/" }).tracing, {
    endpoint: "http://localhost:4318/v1/traces",
    protocol: "http/protobuf",
    serviceName: "graphbox",
  });
  assert.deepEqual(
    loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://general:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4318/t",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "svc",
    }).tracing,
    { endpoint: "http://traces:4318/t", protocol: "http/json", serviceName: "svc" },
  );
  assert.deepEqual(
    problemsOf({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4318/t",
      OTEL_EXPORTER_OTLP_ENDPOINT: "nope",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    }),
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT="nope": expected an http(s) URL such as http://localhost:4318',
      'OTEL_EXPORTER_OTLP_PROTOCOL="grpc": grpc is not supported; use http/protobuf (the collector\'s OTLP/HTTP port, 4318)',
    ],
  );
});

test("API keys come from the list and the file together; the list wins on a name in both", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-config-"));
  try {
    const file = join(dir, "keys");
    writeFileSync(file, `# operators\nalice ${"a".repeat(20)}\nbob   ${"b".repeat(20)}\n`);
    const { apiKeys } = loadConfig({
      GRAPHBOX_API_KEYS_FILE: file,
      GRAPHBOX_API_KEYS: `alice=${"x".repeat(20)},${"y".repeat(20)}`,
    });
    assert.deepEqual(apiKeys, { alice: "x".repeat(20), bob: "b".repeat(20), key2: "y".repeat(20) });
    assert.deepEqual(problemsOf({ GRAPHBOX_API_KEYS_FILE: join(dir, "missing") }), [
      `GRAPHBOX_API_KEYS_FILE=${JSON.stringify(join(dir, "missing"))}: cannot read the file`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");

test("the README's configuration table is the one the declarations give (node --import tsx scripts/readme-config.ts)", () => {
  assert.equal(readmeConfigurationSection(readme), configurationSection());
  // Writing it again changes nothing, and the sections around it are kept.
  assert.equal(withConfigurationSection(readme), readme);
});

test("a declaration out of step with the README is caught", () => {
  const stale = readme.replace("| `GRAPHBOX_PORT` | `8000` |", "| `GRAPHBOX_PORT` | `8080` |");
  assert.notEqual(stale, readme);
  assert.notEqual(readmeConfigurationSection(stale), configurationSection());
});

test("the README documents every error code", () => {
  for (const code of Object.keys(ERRORS)) assert.ok(readme.includes(code), `README lacks ${code}`);
});
