/** The shared workflow corpus through real HTTP, real LangGraph and the LLM stand-in. */
import { describe, test } from "node:test";

import { GraphboxClient, isTerminal, outcomeOf, type ExecuteRequest } from "../packages/client/src/index.ts";
import { corpus, languageOf, programSource, type CaseStep } from "./support/corpus.ts";
import { engineWithLlm } from "./support/engine.ts";
import { checkExpectations } from "./support/expect.ts";

type Json = Record<string, unknown>;

const context = engineWithLlm();

/**
 * Runs one request through @graphbox/client (streamed when the case says so) and checks it. An
 * HTTP refusal throws the client's GraphboxError, failing the case with its code.
 */
async function runStep(
  code: string,
  language: ExecuteRequest["language"],
  step: CaseStep,
  threadId: string,
  stream: boolean,
): Promise<void> {
  const client = new GraphboxClient({ url: context.engine.url });
  const before = context.llm.totalTokens();
  // The cases' configs are the contract's JSON, read from cases.json.
  const config = { ...(step.config ?? {}), thread_id: threadId } as ExecuteRequest["config"];
  const request: ExecuteRequest = {
    code,
    ...(language ? { language } : {}),
    inputs: step.inputs ?? null,
    resume: step.resume ?? null,
    ...(config ? { config } : {}),
  };
  let body: Json;
  let events: { id: number; event: string; data: Json }[] | undefined;
  if (stream) {
    events = [];
    let answer: Json | undefined;
    for await (const event of client.stream(request, { reconnect: false })) {
      events.push({ id: event.id, event: event.event, data: event.data as Json });
      if (isTerminal(event)) answer = outcomeOf(event) as unknown as Json;
    }
    if (!answer) throw new Error("the stream ended without its terminal event");
    body = answer;
  } else {
    body = (await client.execute(request)) as unknown as Json;
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
