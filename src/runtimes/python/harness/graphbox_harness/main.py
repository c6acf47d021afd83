"""Entry point: import the runtime, say ready, run exactly one job, exit."""

import asyncio
import os
import sys
from importlib import metadata

from . import bridge, packages
from .loader import seed_globals
from .protocol import Channel


def _versions() -> dict:
    names = ("langgraph", "langchain-core", "langchain-openai", "langchain-anthropic", "langchain")
    return {"python": sys.version.split()[0], **{name: metadata.version(name) for name in names}}


def _die_with_engine() -> None:
    """Ask the kernel to kill this process if the engine dies (PR_SET_PDEATHSIG = 1, SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
    except Exception:  # not Linux: the engine's process-group kill still applies
        pass


def main() -> None:
    _die_with_engine()
    channel = Channel()
    seed_globals()  # imports LangGraph and the LLM clients before the job arrives
    packages.preload()
    serve(channel)


def serve(channel: Channel) -> None:
    """Says ready, runs the one job that follows, exits the process (the fork server's children call this too)."""
    if os.environ.get("GRAPHBOX_GATEWAY_SOCKET") and os.environ.get("GRAPHBOX_GATEWAY_PORT"):
        # The sandbox has no network: the LLM clients' HTTP to 127.0.0.1:<port> goes to the gateway's socket.
        bridge.start(os.environ["GRAPHBOX_GATEWAY_SOCKET"], int(os.environ["GRAPHBOX_GATEWAY_PORT"]))
    channel.send("ready", runtime="python", versions=_versions())
    job = channel.receive()
    # The execution's own variables (its gateway credential) arrive with the job: a sandbox started
    # ahead of its request never held them while it waited.
    os.environ.update({str(k): str(v) for k, v in (job.get("env") or {}).items()})
    from .runner import run

    try:
        asyncio.run(run(job, channel))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # Exit now: the program's leftover threads must not keep the process (or its result) waiting.
        os._exit(0)
