import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { ConfigError, loadConfig, OPTIONS, PROJECT_ROOT } from "../src/config/index.ts";
import { ERRORS } from "../src/contract/errors.ts";

test("defaults bind loopback port 8000", () => {
  const config = loadConfig({});
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8000);
  assert.equal(config.defaultTimeoutMs, 60_000);
  assert.ok(Object.isFrozen(config));
});

test("every problem is reported at once, by variable name", () => {
  try {
    loadConfig({ GRAPHBOX_PORT: "eighty", GRAPHBOX_MAX_TIMEOUT_MS: "-5", OPENAI_BASE_URL: "ftp://x", GRAPHBOX_LOG_LEVEL: "loud", GRAPHBOX_PYTHON: "/nowhere/python" });
    assert.fail("expected a ConfigError");
  } catch (err: unknown) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join("\n");
    for (const name of ["GRAPHBOX_PORT", "GRAPHBOX_MAX_TIMEOUT_MS", "OPENAI_BASE_URL", "GRAPHBOX_LOG_LEVEL", "GRAPHBOX_PYTHON"]) {
      assert.match(text, new RegExp(name), `${name} missing from: ${text}`);
    }
    assert.match(text, /npm run setup/);
  }
});

test("a default timeout above the maximum is refused", () => {
  assert.throws(() => loadConfig({ GRAPHBOX_DEFAULT_TIMEOUT_MS: "90000", GRAPHBOX_MAX_TIMEOUT_MS: "60000" }), /GRAPHBOX_DEFAULT_TIMEOUT_MS \(90000\) is above/);
});

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");

test("the README documents every configuration variable", () => {
  for (const option of Object.values(OPTIONS)) assert.ok(readme.includes(`\`${option.env}\``), `README lacks ${option.env}`);
});

test("the README documents every error code", () => {
  for (const code of Object.keys(ERRORS)) assert.ok(readme.includes(code), `README lacks ${code}`);
});
