# The Python twin of error.mts (langgraphjs libs/langgraph-api/tests/graphs/error.mts).
import time

from langgraph.graph import START, MessagesState, StateGraph


class CustomError(Exception):
    pass


def error_node(state: MessagesState):
    time.sleep(0.2)
    raise CustomError("Boo!")


builder = StateGraph(MessagesState)
builder.add_node("error_node", error_node)
builder.add_edge(START, "error_node")
graph = builder.compile()
