/** The shared workflow corpus (../shared/workflows), read where it lives. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../src/config/index.ts";

export const CORPUS_DIR = join(PROJECT_ROOT, "..", "shared", "workflows");

export interface CaseStep {
  inputs?: unknown;
  resume?: unknown;
  config?: Record<string, unknown>;
  expect: Record<string, unknown>;
}

export interface CorpusCase extends CaseStep {
  name: string;
  programs: string[];
  llm?: boolean;
  stream?: boolean;
  then?: CaseStep;
}

export const corpus: CorpusCase[] = JSON.parse(readFileSync(join(CORPUS_DIR, "cases.json"), "utf8")) as CorpusCase[];

export function programSource(program: string): string {
  return readFileSync(join(CORPUS_DIR, program), "utf8");
}

export function languageOf(program: string): "python" | "javascript" | "typescript" {
  if (program.endsWith(".py")) return "python";
  return program.endsWith(".ts") ? "typescript" : "javascript";
}
