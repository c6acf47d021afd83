"""Framed JSON messages on the engine's channel (fd 3). Mirrors src/contract/protocol/messages.ts."""

import json
import os
import struct
import sys
import threading

VERSION = 1
CHANNEL_FD = 3
_HEADER = struct.Struct(">I")
MAX_JOB_BYTES = 64 * 1024 * 1024
# The messages that end the job: the engine answers, and kills the process, once it has one.
_FINAL = frozenset({"result", "answer", "error"})
# Operations of LangGraph's BaseStore a `store` request may ask for (messages.ts STORE_OPS).
STORE_OPS = ("get", "put", "delete", "search", "list_namespaces")


class EngineRequestError(Exception):
    """The engine refused a request (e.g. a checkpoint operation on a thread it does not allow)."""


class Channel:
    def __init__(self, fd: int = CHANNEL_FD):
        self._fd = fd
        self._request_lock = threading.Lock()
        self._next_request = 0

    def request(self, type_: str, **fields):
        """Sends a request and waits for the engine's answer.

        The engine answers requests in order and sends nothing else after the job, so the next
        frame read is the answer; the lock keeps threads (sync nodes) from interleaving.
        """
        with self._request_lock:
            self._next_request += 1
            request_id = self._next_request
            self.send(type_, request_id=request_id, **fields)
            answer = self.receive()
        if answer.get("type") != "response" or answer.get("request_id") != request_id:
            raise EngineRequestError(f"unexpected answer from the engine: {answer.get('type')}")
        if not answer.get("ok"):
            raise EngineRequestError(answer.get("error") or "the engine refused the request")
        return answer.get("value")

    def send(self, type_: str, **fields) -> None:
        if type_ in _FINAL:
            _flush_prints()
        payload = json.dumps({"v": VERSION, "type": type_, **fields}, ensure_ascii=False, allow_nan=False).encode()
        data = _HEADER.pack(len(payload)) + payload
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def receive(self) -> dict:
        (size,) = _HEADER.unpack(self._read_exactly(_HEADER.size))
        if size > MAX_JOB_BYTES:
            raise ValueError(f"frame of {size} bytes is over the limit")
        message = json.loads(self._read_exactly(size))
        if message.get("v") != VERSION:
            raise ValueError(f"engine speaks protocol version {message.get('v')}, harness speaks {VERSION}")
        return message

    def _read_exactly(self, size: int) -> bytes:
        chunks, remaining = [], size
        while remaining:
            chunk = os.read(self._fd, remaining)
            if not chunk:
                raise EOFError("engine closed the channel")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


def _flush_prints() -> None:
    """Writes out what the program printed before the message that ends the run.

    `-u` makes the harness's own stdout and stderr write through, but a program may have put a
    buffered stream in their place; what it holds after the result would race the engine's kill.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # whatever the program's stream does, the run's last message goes out
            pass
