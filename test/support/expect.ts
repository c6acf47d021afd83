/** Checks an engine answer against a corpus case's `expect`, key by key; an unknown key fails. */
import assert from "node:assert/strict";

type Json = Record<string, unknown>;

export interface ExpectContext {
  /** Tokens the LLM stand-in reported during this request. */
  standInTokens: number;
  /** The SSE events, when the request was streamed. */
  events?: { id: number; event: string; data: Json }[] | undefined;
}

const ENGINE_PATH_MARKERS = ["/work/", "graphbox_harness", "site-packages", "/src/runtimes"];

function lastContent(messages: Json[]): unknown {
  return messages.at(-1)?.["content"];
}

export function checkExpectations(answer: Json, expect: Json, context: ExpectContext): void {
  const result = (answer["result"] ?? {}) as Json;
  const metadata = (result["metadata"] ?? {}) as Json;
  const messages = (result["messages"] ?? []) as Json[];
  const state = (result["state"] ?? {}) as Json;
  const describe = JSON.stringify(answer).slice(0, 2000);

  for (const [key, want] of Object.entries(expect)) {
    switch (key) {
      case "status":
        assert.equal(answer["status"], want, describe);
        break;
      case "nodes_executed":
      case "next":
        assert.deepEqual(metadata[key], want, describe);
        break;
      case "last_message":
        assert.equal(lastContent(messages), want, describe);
        break;
      case "state":
        for (const [name, value] of Object.entries(want as Json))
          assert.deepEqual(state[name], value, `state.${name}: ${describe}`);
        break;
      case "messages":
        assert.deepEqual(messages, want, describe);
        break;
      case "message_roles":
        assert.deepEqual(
          messages.map((m) => m["role"]),
          want,
          describe,
        );
        break;
      case "message_count":
        assert.equal(messages.length, want, describe);
        break;
      case "tool_result":
        assert.ok(
          messages.some((m) => m["role"] === "tool" && m["content"] === want),
          `no tool message with ${String(want)}: ${describe}`,
        );
        break;
      case "tokens_used":
        assert.equal(metadata["tokens_used"], want === "from stand-in" ? context.standInTokens : want, describe);
        if (want === "from stand-in") assert.ok(context.standInTokens > 0, "the stand-in reported no tokens");
        break;
      case "state_is_json":
        assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
        assert.ok(
          Object.values(state).some((v) => typeof v === "object" && v !== null && "__type" in v),
          `no {__type, repr} value: ${describe}`,
        );
        break;
      case "interrupt_value": {
        const interrupts = metadata["interrupts"] as Json[];
        assert.deepEqual(interrupts[0]?.["value"], want, describe);
        break;
      }
      case "error_type":
      case "node":
        assert.equal(answer[key], want, describe);
        break;
      case "error_contains":
        assert.ok(String(answer["error"]).includes(String(want)), describe);
        break;
      case "traceback_names_program_line": {
        const traceback = String(answer["traceback"]);
        // Python: `File "<workflow>", line 12`; JavaScript/TypeScript (source-mapped): `<workflow>:12:5`.
        assert.match(traceback, /File "<workflow>", line \d+|<workflow>:\d+:\d+/, traceback);
        for (const marker of ENGINE_PATH_MARKERS)
          assert.ok(!traceback.includes(marker), `traceback shows ${marker}: ${traceback}`);
        break;
      }
      case "events_include": {
        const names = new Set((context.events ?? []).map((e) => e.event));
        for (const name of want as string[]) assert.ok(names.has(name), `no ${name} event in ${[...names].join(", ")}`);
        break;
      }
      case "tokens_joined_equal_last_message": {
        const tokens = (context.events ?? []).filter((e) => e.event === "token").map((e) => String(e.data["content"]));
        assert.ok(tokens.length > 1, "expected several token events");
        assert.equal(tokens.join(""), lastContent(messages));
        break;
      }
      default:
        assert.fail(`the test does not know expectation "${key}"; teach test/support/expect.ts`);
    }
  }
}
