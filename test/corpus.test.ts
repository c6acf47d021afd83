/** The shared workflow corpus through real HTTP, real LangGraph and the LLM stand-in. */
import { describe, test } from "node:test";

import { corpus, languageOf, programSource, type CaseStep } from "./support/corpus.ts";
import { engineWithLlm } from "./support/engine.ts";
import { checkExpectations } from "./support/expect.ts";
import { readSse, type SseEvent } from "./support/sse.ts";

const context = engineWithLlm();

/** Runs one request (streamed through a real SSE client when the case says so) and checks it. */
async function runStep(
  code: string,
  language: string,
  step: CaseStep,
  threadId: string,
  stream: boolean,
): Promise<void> {
  const before = context.llm.totalTokens();
  const config = { ...(step.config ?? {}), thread_id: threadId };
  const request = { code, language, inputs: step.inputs ?? null, resume: step.resume ?? null, config };
  let body: Record<string, unknown>;
  let events: SseEvent[] | undefined;
  if (stream) {
    const read = await readSse(`${context.engine.url}/execute-langgraph/stream`, { body: request });
    if (read.status !== 200) throw new Error(`HTTP ${read.status}: ${JSON.stringify(read.events)}`);
    events = read.events;
    const { type: _type, ...terminal } = events.at(-1)!.data;
    body = terminal;
  } else {
    const answer = await context.engine.post("/execute-langgraph", request);
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
    body = answer.body;
  }
  checkExpectations(body, step.expect, { standInTokens: context.llm.totalTokens() - before, events });
}

const runnable = corpus;

// One spec, every runtime: each case runs the program written for each runtime's languages.
const RUNTIMES: Record<string, string[]> = { python: ["python"], js: ["javascript", "typescript"] };

for (const [runtime, languages] of Object.entries(RUNTIMES)) {
  describe(`workflow corpus (${runtime})`, () => {
    for (const item of runnable) {
      for (const program of item.programs.filter((p) => languages.includes(languageOf(p)))) {
        test(`${item.name} (${program})`, async () => {
          const threadId = `${String(item.config?.["thread_id"] ?? "corpus")}-${crypto.randomUUID()}`;
          const code = programSource(program);
          await runStep(code, languageOf(program), item, threadId, item.stream === true);
          if (item.then) await runStep(code, languageOf(program), item.then, threadId, false);
        });
      }
    }
  });
}
