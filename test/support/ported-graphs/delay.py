# The Python twin of delay.mts (langgraphjs libs/langgraph-api/tests/graphs/delay.mts).
import time

from langgraph.graph import END, START, MessagesState, StateGraph


class State(MessagesState):
    delay: int


def long_running(state: State):
    time.sleep(state["delay"] / 1000)
    return {"messages": [f"finished after {state['delay']}ms"]}


builder = StateGraph(State)
builder.add_node("long_running", long_running)
builder.add_edge(START, "long_running")
builder.add_edge("long_running", END)
graph = builder.compile()
