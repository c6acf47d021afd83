# The Python twin of weather.mts (langgraphjs libs/langgraph-api/tests/graphs/weather.mts).
from typing import Literal

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph


class WeatherState(MessagesState):
    city: str


class RouterState(MessagesState):
    route: Literal["weather", "other"]


def model_node(state: WeatherState):
    llm = AIMessage(
        content="",
        tool_calls=[{"id": "tool_call123", "name": "get_weather", "args": {"city": "San Francisco"}}],
    )
    return {"city": llm.tool_calls[0]["args"]["city"]}


def weather_node(state: WeatherState):
    return {"messages": [AIMessage(content=f"It's sunny in {state['city']}!")]}


weather_builder = StateGraph(WeatherState)
weather_builder.add_node("model_node", model_node)
weather_builder.add_node("weather_node", weather_node)
weather_builder.add_edge(START, "model_node")
weather_builder.add_edge("model_node", "weather_node")
weather_builder.add_edge("weather_node", END)
weather = weather_builder.compile(interrupt_before=["weather_node"])


def router_node(state: RouterState):
    return {"route": "weather"}


def normal_llm_node(state: RouterState):
    return {"messages": [AIMessage("Hello")]}


router = StateGraph(RouterState)
router.add_node("router_node", router_node)
router.add_node("normal_llm_node", normal_llm_node)
router.add_node("weather_graph", weather)
router.add_edge(START, "router_node")
router.add_conditional_edges(
    "router_node",
    lambda state: "weather_graph" if state["route"] == "weather" else "normal_llm_node",
    ["weather_graph", "normal_llm_node"],
)
router.add_edge("weather_graph", END)
router.add_edge("normal_llm_node", END)
graph = router.compile()
