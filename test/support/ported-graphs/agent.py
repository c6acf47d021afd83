# The Python twin of agent.mts (langgraphjs libs/langgraph-api/tests/graphs/agent.mts): the same
# nodes, edges, store use and answers ("begin" after an even number of AI messages, else "end").
import time
from typing import Annotated, Any, Optional

from typing_extensions import TypedDict  # pydantic describes only this TypedDict before Python 3.12

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AnyMessage, ToolMessage
from langgraph.config import get_store, get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt


class OutputState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    sharedStateValue: Optional[str]
    interrupt: bool
    keyOne: Optional[str]
    keyTwo: Optional[str]
    sleep: Any


class InputState(OutputState, total=False):
    sharedStateFromStoreConfig: Optional[dict]


class ConfigSchema(TypedDict, total=False):
    model_name: str


NAMESPACE = ("sharedState", "data")
KEY = "user_id"


def get_model(messages):
    answered = sum(1 for message in messages if message.type == "ai")
    return FakeListChatModel(responses=["begin" if answered % 2 == 0 else "end"])


def agent(state: InputState, config):
    if state.get("interrupt"):
        interrupt("i want to interrupt")

    messages = state.get("messages", [])
    sleep = state.get("sleep")
    if sleep is not None and messages and messages[-1].type == "human":
        if isinstance(sleep, (int, float)):
            time.sleep(sleep)
        else:
            writer = get_stream_writer()
            for step in range(sleep["steps"]):
                writer({"type": "sleep", "step": step})
                time.sleep(sleep["ms"] / 1000)

    response = get_model(messages).invoke(messages)

    store = get_store()
    if store is not None and not state.get("sharedStateFromStoreConfig"):
        store.put(NAMESPACE, KEY, {"id": config["configurable"].get("user_id")})

    return {"interrupt": False, "messages": [response]}


def tool(state: InputState):
    store = get_store()
    shared = None
    if store is not None:
        item = store.get(NAMESPACE, KEY)
        shared = item.value if item is not None else None

    messages = state.get("messages", [])
    if not messages:
        return {"messages": [], "sharedStateFromStoreConfig": shared}
    return {
        "messages": [ToolMessage(content=f"tool_call__{messages[-1].content}", tool_call_id="tool_call_id")],
        "sharedStateFromStoreConfig": shared,
    }


def check_shared_state(state: InputState):
    store = get_store()
    if store is not None:
        item = store.get(("inputtedState", "data"), "my_key")
        if item is None or not item.value.get("isTrue"):
            raise ValueError("Value is not true")
    return {}


def agent_cond_edge(state: InputState):
    first = state["messages"][0].content
    if first == "should_end":
        return END
    if first == "___check_state_value":
        return "checkSharedState"
    if state["messages"][-1].content == "end":
        return END
    return "tool"


builder = StateGraph(InputState, input_schema=InputState, output_schema=OutputState, context_schema=ConfigSchema)
builder.add_node("agent", agent)
builder.add_node("tool", tool)
builder.add_node("checkSharedState", check_shared_state)
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", agent_cond_edge, ["tool", "checkSharedState", END])
builder.add_edge("tool", "agent")
builder.add_edge("checkSharedState", END)
graph = builder.compile()
