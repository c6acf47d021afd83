/**
 * Checkpoints cross the trust boundary: a program writes them through the harness's channel and
 * a later run on the thread (maybe another end user's) loads them. Through real HTTP, real
 * bubblewrap and real LangGraph: a forged checkpoint ends its run and is never loaded, the head
 * is what the engine wrote last, the checkpoint quotas end a run with output_limit, and the
 * thread state is answered from the head.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { ANONYMOUS_OWNER } from "../src/http/auth.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { uuid6 } from "./support/store-conformance.ts";

type Body = Record<string, unknown>;

/**
 * One program, told by its input what to forge. Each attack talks to the engine the way the
 * harness does (its own checkpointer's channel) and carries a payload that would print MARK if
 * anything ever ran it; the printed text is spelled so that only running the payload makes it.
 */
const FORGER = (mark: string): string => String.raw`
import base64, os, pickle, sys
from typing import Any, TypedDict

import ormsgpack
from langgraph.checkpoint.base.id import uuid6
from langgraph.graph import END, START, StateGraph

RUN_ME = "print('${mark.slice(0, 4)}' + '${mark.slice(4)}')"


class Payload:
    def __reduce__(self):
        return (exec, (RUN_ME,))


class State(TypedDict, total=False):
    count: Any
    attack: str


def saver(config):
    return config["configurable"]["__pregel_checkpointer"]


def head_of(config):
    """The thread's head (the node's own config names the checkpoint its step will write)."""
    c = config["configurable"]
    return saver(config).get_tuple({"configurable": {"thread_id": c["thread_id"], "checkpoint_ns": ""}})


def put(config, **args):
    c = config["configurable"]
    saver(config)._call("put", thread_id=c["thread_id"], checkpoint_ns="", parent_checkpoint_id=None, metadata={}, **args)


def b64(data):
    return base64.b64encode(data).decode()


def step(state: State, config):
    attack = state.get("attack")
    if attack == "pickle":
        put(config, checkpoint_id=str(uuid6()), type="pickle", checkpoint=b64(pickle.dumps(Payload())))
    elif attack == "greatest-id":
        put(config, checkpoint_id="zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", type="msgpack", checkpoint=b64(ormsgpack.packb({})))
    elif attack == "older-id":
        head = head_of(config)
        older = "0" + head.config["configurable"]["checkpoint_id"][1:]
        put(config, checkpoint_id=older, type="msgpack", checkpoint=b64(ormsgpack.packb(head.checkpoint)))
    elif attack == "future-id":
        put(config, checkpoint_id="2" + str(uuid6())[1:], type="msgpack", checkpoint=b64(ormsgpack.packb({})))
    elif attack == "msgpack-call":
        # A well-formed checkpoint whose count is a msgpack extension naming exec: the engine
        # cannot see inside msgpack, so it stores it; the next run's harness must not call it.
        # Copied from the last checkpoint of a finished step, so that LangGraph can go on from it.
        c = config["configurable"]
        done = (t for t in saver(config).list({"configurable": {"thread_id": c["thread_id"], "checkpoint_ns": ""}}) if "step" in t.checkpoint["versions_seen"])
        head = next(done).checkpoint
        planted = {**head, "id": str(uuid6()), "channel_values": {**head["channel_values"], "count": "PLANTED"}}
        call = ormsgpack.Ext(0, ormsgpack.packb(("builtins", "exec", RUN_ME)))
        blob = ormsgpack.packb({**planted, "channel_values": {**planted["channel_values"], "count": call}})
        put(config, checkpoint_id=planted["id"], type="msgpack", checkpoint=b64(blob))
        # Leave before LangGraph writes its own checkpoint after this step: the planted one is the head.
        sys.stdout.flush()
        os._exit(0)
    count = state.get("count")
    return {"count": (count if isinstance(count, int) else 0) + 1, "attack": ""}


workflow = StateGraph(State)
workflow.add_node("step", step)
workflow.add_edge(START, "step")
workflow.add_edge("step", END)
app = workflow.compile()
`;

const result = (body: Body): Body => body["result"] as Body;
const metadataOf = (body: Body): Body =>
  ((body["status"] === "error" ? body["metadata"] : result(body)["metadata"]) ?? {}) as Body;

describe("checkpoints a program forges", () => {
  let engine: RunningEngine;
  const mark = `PWNED-${randomUUID()}`;
  const code = FORGER(mark);
  const run = async (thread: string, inputs: Body | null): Promise<Body> => {
    const answer = await engine.post("/execute-langgraph", { code, inputs, config: { thread_id: thread } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(
      !JSON.stringify(answer.body).includes(mark),
      `the payload ran: ${JSON.stringify(answer.body).slice(0, 2000)}`,
    );
    return answer.body;
  };
  /** A thread with one honest run behind it. */
  const honestThread = async (): Promise<string> => {
    const thread = `forge-${randomUUID()}`;
    const first = await run(thread, { count: 0 });
    assert.equal(first["status"], "success", JSON.stringify(first));
    return thread;
  };
  const assertForged = (body: Body, pattern: RegExp): void => {
    assert.equal(body["status"], "error", JSON.stringify(body));
    assert.equal(body["error_type"], "sandbox_error", JSON.stringify(body));
    assert.match(String(body["error"]), /^the program sent a forged checkpoint: /);
    assert.match(String(body["error"]), pattern);
  };
  /** The thread goes on from its last honest checkpoint. */
  const assertThreadIntact = async (thread: string, count: number): Promise<void> => {
    const next = await run(thread, { attack: "" });
    assert.equal(next["status"], "success", JSON.stringify(next));
    assert.equal((result(next)["state"] as Body)["count"], count);
  };

  before(async () => {
    engine = await startEngine();
  });
  after(async () => engine.close());

  test("a pickle checkpoint ends its run, is not stored, and the next run does not load it", async () => {
    const thread = await honestThread();
    assertForged(
      await run(thread, { attack: "pickle" }),
      /serializer type "pickle", which the python harness never writes/,
    );
    await assertThreadIntact(thread, 2);
  });

  test("a checkpoint id not in LangGraph's format (the old greatest id) ends its run", async () => {
    const thread = await honestThread();
    assertForged(
      await run(thread, { attack: "greatest-id" }),
      /"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz" is not a LangGraph checkpoint id/,
    );
    await assertThreadIntact(thread, 2);
  });

  test("a checkpoint id older than the thread's ids ends its run", async () => {
    const thread = await honestThread();
    assertForged(await run(thread, { attack: "older-id" }), /does not sort after/);
    await assertThreadIntact(thread, 2);
  });

  test("a checkpoint id dated in the future (it would freeze the thread) ends its run", async () => {
    const thread = await honestThread();
    assertForged(await run(thread, { attack: "future-id" }), /in the future/);
    await assertThreadIntact(thread, 2);
  });

  test("a msgpack checkpoint naming a callable is stored (it is msgpack) but the next run does not call it", async () => {
    const thread = await honestThread();
    const planting = await run(thread, { attack: "msgpack-call" });
    assert.equal(planting["status"], "error", JSON.stringify(planting));
    const state = (await (await fetch(`${engine.url}/threads/${thread}/state`)).json()) as Body;
    const history = (await (await fetch(`${engine.url}/threads/${thread}/history`)).json()) as {
      checkpoints: { checkpoint_id: string }[];
    };
    assert.equal(state["checkpoint_id"], history.checkpoints[0]?.checkpoint_id, "the planted checkpoint is the head");
    // Loading it rebuilds no callable (run() asserts the payload's text never appears); what the
    // hand-made checkpoint does to LangGraph after that is the program's own business.
    const next = await run(thread, { attack: "" });
    assert.match(String(metadataOf(next)["logs"]), /Blocked deserialization of builtins\.exec/, JSON.stringify(next));
  });

  test("a pickle already in the store (written before this check) is refused by the harness, not loaded", async () => {
    const thread = await honestThread();
    // The engine's store itself, without the engine's checkpoint rules in front: as old data would be.
    const payload = await pythonPickle(`(exec, ("print('${mark.slice(0, 4)}' + '${mark.slice(4)}')",))`);
    await engine.app.store.checkpoints.put(
      { owner: ANONYMOUS_OWNER, threadId: thread },
      { checkpointId: uuid6(), checkpoint: { type: "pickle", bytes: payload }, metadata: {} },
    );
    const next = await run(thread, { attack: "" });
    assert.equal(next["status"], "error", JSON.stringify(next));
    assert.match(String(next["error"]), /refusing a checkpoint value of serializer type 'pickle'/);
  });
});

/** Pickle bytes whose loading calls `reduce` (built by Python, as a program would). */
async function pythonPickle(reduce: string): Promise<Uint8Array> {
  const { execFileSync } = await import("node:child_process");
  const script = `import pickle, sys\nclass P:\n    def __reduce__(self):\n        return ${reduce}\nsys.stdout.buffer.write(pickle.dumps(P()))`;
  return new Uint8Array(execFileSync("python3", ["-c", script]));
}

describe("checkpoint quotas", () => {
  let engine: RunningEngine;
  before(async () => {
    engine = await startEngine(undefined, { maxCheckpointWriteBytes: 64 * 1024, maxThreadCheckpointBytes: 256 * 1024 });
  });
  after(async () => engine.close());

  const GROWER = (perStepKb: number, steps: number): string => `
from typing import TypedDict
from langgraph.graph import END, START, StateGraph

class State(TypedDict, total=False):
    blob: str
    n: int

def grow(state: State):
    n = state.get("n", 0) + 1
    return {"blob": str(n % 10) * (${perStepKb} * 1024), "n": n}

def more(state: State):
    return "grow" if state["n"] < ${steps} else END

workflow = StateGraph(State)
workflow.add_node("grow", grow)
workflow.add_edge(START, "grow")
workflow.add_conditional_edges("grow", more)
app = workflow.compile()
`;

  test("one checkpoint write over GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES ends the run with output_limit", async () => {
    const thread = `quota-write-${randomUUID()}`;
    const answer = await engine.post("/execute-langgraph", {
      code: GROWER(100, 1),
      inputs: {},
      config: { thread_id: thread },
    });
    assert.equal(answer.body["status"], "error", JSON.stringify(answer.body));
    assert.equal(answer.body["error_type"], "output_limit");
    assert.match(String(answer.body["error"]), /GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES \(65536 bytes\)/);
  });

  test("a thread's checkpoints over GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES end the run with output_limit", async () => {
    const thread = `quota-thread-${randomUUID()}`;
    const answer = await engine.post("/execute-langgraph", {
      code: GROWER(16, 20),
      inputs: {},
      config: { thread_id: thread, recursion_limit: 100 },
    });
    assert.equal(answer.body["status"], "error", JSON.stringify(answer.body));
    assert.equal(answer.body["error_type"], "output_limit");
    assert.match(
      String(answer.body["error"]),
      /GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES: .*over its quota of 262144 bytes/,
    );
    // Under the quota, the same program runs: the engine answers the next request normally.
    const small = await engine.post("/execute-langgraph", {
      code: GROWER(1, 3),
      inputs: {},
      config: { thread_id: `quota-ok-${randomUUID()}` },
    });
    assert.equal(small.body["status"], "success", JSON.stringify(small.body));
  });
});

describe("thread state from the checkpoint head", () => {
  let engine: RunningEngine;
  before(async () => {
    engine = await startEngine();
  });
  after(async () => engine.close());

  const INTERRUPTING = `
from typing import TypedDict
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

class State(TypedDict, total=False):
    n: int
    answer: str
    fail: bool

def first(state: State):
    if state.get("fail"):
        raise RuntimeError("failing after the head moved")
    return {"n": state.get("n", 0) + 1}

def ask(state: State):
    return {"answer": interrupt({"question": "go on?", "n": state["n"]})}

workflow = StateGraph(State)
workflow.add_node("first", first)
workflow.add_node("ask", ask)
workflow.add_edge(START, "first")
workflow.add_edge("first", "ask")
workflow.add_edge("ask", END)
app = workflow.compile()
`;
  const state = async (thread: string): Promise<Body> =>
    (await (await fetch(`${engine.url}/threads/${thread}/state`)).json()) as Body;

  test("an interrupted thread's state is its head's values with the result's next and interrupts", async () => {
    const thread = `state-${randomUUID()}`;
    const answer = await engine.post("/execute-langgraph", {
      code: INTERRUPTING,
      inputs: { n: 1 },
      config: { thread_id: thread },
    });
    assert.equal(answer.body["status"], "interrupted", JSON.stringify(answer.body));
    const r = result(answer.body);
    const meta = r["metadata"] as Body;
    const current = await state(thread);
    assert.deepEqual(
      {
        values: current["values"],
        next: current["next"],
        interrupts: current["interrupts"],
        checkpoint_id: current["checkpoint_id"],
        status: current["status"],
        runtime: current["runtime"],
      },
      {
        values: r["state"],
        next: meta["next"],
        interrupts: meta["interrupts"],
        checkpoint_id: meta["checkpoint_id"],
        status: "interrupted",
        runtime: "python",
      },
    );
    assert.deepEqual(current["next"], ["ask"]);
  });

  test("after a failed run wrote checkpoints, the state is the new head's, not the last result's", async () => {
    const thread = `state-moved-${randomUUID()}`;
    const ok = await engine.post("/execute-langgraph", {
      code: INTERRUPTING,
      inputs: { n: 1 },
      config: { thread_id: thread },
    });
    assert.equal(ok.body["status"], "interrupted");
    const failed = await engine.post("/execute-langgraph", {
      code: INTERRUPTING,
      inputs: { n: 5, fail: true },
      config: { thread_id: thread },
    });
    assert.equal(failed.body["status"], "error", JSON.stringify(failed.body));
    const current = await state(thread);
    const history = (await (await fetch(`${engine.url}/threads/${thread}/history`)).json()) as {
      checkpoints: { checkpoint_id: string; values: Body }[];
    };
    assert.equal(current["checkpoint_id"], history.checkpoints[0]?.checkpoint_id);
    assert.notEqual(current["checkpoint_id"], (result(ok.body)["metadata"] as Body)["checkpoint_id"]);
    assert.equal((current["values"] as Body)["n"], 5, "the failed run's input checkpoint is the head");
    assert.deepEqual(current["next"], [], "the last result's next described another checkpoint");
    assert.equal(current["status"], "error");
  });
});
