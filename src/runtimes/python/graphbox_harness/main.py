"""Entry point: import the runtime, say ready, run exactly one job, exit."""

import asyncio
import os
import sys
from importlib import metadata

from .loader import seed_globals
from .protocol import Channel


def _versions() -> dict:
    names = ("langgraph", "langchain-core", "langchain-openai", "langchain-anthropic")
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
    channel.send("ready", runtime="python", versions=_versions())
    job = channel.receive()
    from .runner import run

    try:
        asyncio.run(run(job, channel))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # Exit now: the program's leftover threads must not keep the process (or its result) waiting.
        os._exit(0)
