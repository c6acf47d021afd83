"""Graphbox's Python harness: runs one LangGraph program inside its sandbox.

It is the only engine code next to untrusted code, so it stays small and depends on
nothing but the runtime's own LangGraph packages. It talks to the engine only through
the framed channel in `protocol.py`.
"""
