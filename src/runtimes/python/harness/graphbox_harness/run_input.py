"""What a run job gives its graph: the inputs, or a Command (`resume`, and the Agent API's
`command.update` and `command.goto`, read as LangGraph's servers read them)."""

from langgraph.types import Command, Send


def _update(update):
    # JSON has no tuples: a list of [key, value] pairs is LangGraph's list of (key, value) updates.
    if isinstance(update, list) and all(isinstance(item, list) and len(item) == 2 for item in update):
        return [tuple(item) for item in update]
    return update


def _goto(goto):
    items = goto if isinstance(goto, list) else [goto]
    # `{node, input}` is a Send, as in LangGraph's servers' RunCommand.
    return [Send(item["node"], item.get("input")) if isinstance(item, dict) else item for item in items]


def graph_input(job: dict):
    command = job.get("command") or {}
    resume = job.get("resume")
    if command.get("update") is not None or command.get("goto") is not None:
        return Command(
            resume=resume,
            update=_update(command.get("update")),
            goto=_goto(command["goto"]) if command.get("goto") is not None else (),
        )
    if resume is not None:
        return Command(resume=resume)
    return job.get("inputs")
