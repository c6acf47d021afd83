"""Drives Graphbox with LangGraph's Python client (langgraph-sdk), as a user's script would.

Usage: sdk_scenario.py URL API_KEY. Prints one JSON object of what each call answered, for
test/agent-sdk-python.test.ts to check. The graphs are registered by the test beforehand.
"""

import asyncio
import json
import sys

from langgraph_sdk import get_client
from langgraph_sdk.schema import Command


async def main(url: str, key: str) -> dict:
    client = get_client(url=url, api_key=key)
    out: dict = {}

    thread = await client.threads.create(metadata={"by": "python-sdk"})
    events = []
    async for part in client.runs.stream(
        thread["thread_id"], "py-chat",
        input={"messages": [{"role": "user", "content": "hello python"}]},
        stream_mode=["values", "updates", "messages-tuple"],
    ):
        events.append({"event": part.event, "data": part.data})
    out["stream"] = events
    out["state"] = await client.threads.get_state(thread["thread_id"])
    out["search"] = await client.threads.search(metadata={"graph_id": "py-chat"}, limit=100)

    approval = await client.threads.create()
    out["interrupted"] = await client.runs.wait(approval["thread_id"], "ts-approval", input={"draft": "memo"})
    out["waiting"] = await client.threads.get(approval["thread_id"])
    out["resumed"] = await client.runs.wait(approval["thread_id"], "ts-approval", command=Command(resume="yes"))
    out["history"] = await client.threads.get_history(approval["thread_id"], limit=20)

    # A thread keeps the runtime of its first run: the Python program gets a thread of its own.
    background = await client.threads.create()
    run = await client.runs.create(background["thread_id"], "py-slow", input={"n": 0})
    out["joined"] = await client.runs.join(background["thread_id"], run["run_id"])
    out["run"] = await client.runs.get(background["thread_id"], run["run_id"])

    await client.store.put_item(["prefs", "py"], "color", {"value": "green"})
    out["item"] = await client.store.get_item(["prefs", "py"], "color")
    out["items"] = await client.store.search_items(["prefs"])
    out["stateless"] = await client.runs.wait(None, "py-slow", input={"n": 0})
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2])), default=str))
