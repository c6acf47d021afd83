import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { detectLanguage } from "../src/engine/language.ts";
import { CORPUS_DIR, programSource } from "./support/corpus.ts";

test("every corpus program is told apart by its source alone", () => {
  for (const dir of ["python", "typescript"]) {
    for (const file of readdirSync(join(CORPUS_DIR, dir))) {
      const detected = detectLanguage(programSource(`${dir}/${file}`));
      if (dir === "python") assert.equal(detected, "python", file);
      else assert.ok(detected === "typescript" || detected === "javascript", `${file}: ${String(detected)}`);
    }
  }
  assert.equal(detectLanguage(programSource("typescript/01_echo.ts")), "typescript");
});

test("sources that say nothing, or contradict themselves, are not guessed", () => {
  assert.equal(detectLanguage("hello world"), null);
  assert.equal(detectLanguage("from x import y\nconst a = 1;\n"), null);
});

test("a megabyte of blank lines or of near-signs is read line by line: each such source gets its answer", () => {
  // Whole-source patterns with ^\s* and the m flag took minutes on these (every line start rescanned the rest).
  assert.equal(detectLanguage("\n".repeat(1_000_000) + "x"), null);
  assert.equal(detectLanguage(" \n".repeat(500_000) + "def work(state):\n    return state\n"), "python");
  assert.equal(detectLanguage(("def f(" + "->)".repeat(130) + "\n").repeat(2500)), null);
  assert.equal(
    detectLanguage(`const s = "${"x".repeat(500)}";\nexport const app = 1;\n`),
    "javascript",
    "a line longer than 400 characters is skipped, not the source",
  );
});
