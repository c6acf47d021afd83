"""The fork server's zygote: imports LangGraph once, then forks one sandboxed child per job.

It runs inside its own bubblewrap sandbox with every capability of that sandbox's user namespace
(so it can build namespaces for its children), holds no tenant data and no secret, and runs no
program code. Per job, three processes below it:

  C  forked here; waits until the engine has moved it into the job's cgroup (`release`), unshares
     mount, PID, network, IPC, UTS and cgroup namespaces, forks G, and exits with G's status.
  G  pid 1 of the new PID namespace: fresh /tmp, /dev/shm, /proc and devpts, connects the three
     job sockets, closes the jobs directory, brings `lo` up, forks H, gives up its own privileges
     and reaps until H ends. When G exits the kernel kills whatever is left in the namespace.
  H  pid 2: rlimits, no capabilities, no_new_privs, the execution seccomp filter; then it takes
     its environment from the engine over its own channel and runs the job as main.py does.

The program runs in H, not in G, for the same reason bwrap runs it under an init of its own: the
kernel does not deliver SIGXCPU or SIGXFSZ to a PID namespace's init, so a CPU or file-size limit
would end as a plain SIGKILL (or an EFBIG) and the engine could not say which limit tripped.

Engine → zygote on fd 3: init {seccomp}, fork {job_id, token, limits}, release {job_id},
abandon {job_id}. Zygote → engine: zygote_ready, forked, fork_failed, reaped (see messages.ts).
The zygote stays single-threaded, so fork() copies no lock held by another thread.
"""

import base64
import gc
import os
import select
import signal
import sys
import tempfile
import threading
import time
import traceback

from . import isolate
from .protocol import Channel

_CHANNEL_FD = 3
_EXIT_SETUP_FAILED = 125


def _status_code(status: int) -> int:
    """An exit status passed up as an exit code, a death by signal n as 128+n (as bwrap and shells do)."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else _EXIT_SETUP_FAILED


def _fail(where: str) -> None:
    try:
        sys.stderr.write(f"graphbox zygote: {where} failed\n{traceback.format_exc()}")
        sys.stderr.flush()
    finally:
        os._exit(_EXIT_SETUP_FAILED)


def _run_child(job: dict, release_fd: int, seccomp: bytes, zygote_pid: int) -> None:
    """C: waits for the engine's release, then builds the namespaces and forks G. Never returns."""
    try:
        # First of all: drop the zygote's channel and every other job's release pipe.
        os.dup2(release_fd, _CHANNEL_FD)
        os.closerange(_CHANNEL_FD + 1, isolate.JOBS_FD)
        os.closerange(isolate.JOBS_FD + 1, 1 << 16)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        isolate.die_with_parent()
        if os.getppid() != zygote_pid:
            os._exit(_EXIT_SETUP_FAILED)
        # The engine writes C's host pid into the job's cgroup, then releases it; EOF means abandoned.
        if os.read(_CHANNEL_FD, 1) != b"r":
            os._exit(_EXIT_SETUP_FAILED)
        os.close(_CHANNEL_FD)
        isolate.unshare(isolate.CHILD_NAMESPACES)
        init = os.fork()
        if init == 0:
            _run_init(job, seccomp)
        _, status = os.waitpid(init, 0)
        os._exit(_status_code(status))
    except BaseException:
        _fail("child setup")


def _run_init(job: dict, seccomp: bytes) -> None:
    """G: pid 1 of the job's PID namespace. Never returns."""
    try:
        isolate.die_with_parent()
        isolate.fresh_mounts(int(job["limits"]["tmp_size_bytes"]))
        path = isolate.job_socket(job["job_id"])
        fds = [isolate.connect(path, job["token"], role) for role in ("channel", "stdout", "stderr")]
        # From here on no job's socket can be reached, this one's included: the directory's only way in is gone.
        os.close(isolate.JOBS_FD)
        isolate.loopback_up()
        worker = os.fork()
        if worker == 0:
            _run_job(job, fds, seccomp)
        for fd in fds:
            os.close(fd)
        # Nothing the program can reach or hijack: no output to the zygote's log, no Python handler
        # for the SIGINT a program may send its init, no /proc/1/mem for it to open.
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        isolate.not_dumpable()
        isolate.confine(seccomp)
        while True:
            pid, status = os.wait()  # as init, it also reaps the program's orphans
            if pid == worker:
                os._exit(_status_code(status))
    except BaseException:
        _fail("init setup")


def _run_job(job: dict, fds: list, seccomp: bytes) -> None:
    """H: confines itself for good, takes its environment from the engine, runs the job. Never returns."""
    try:
        isolate.die_with_parent()
        channel_fd, stdout_fd, stderr_fd = fds
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        os.close(stdout_fd)
        os.close(stderr_fd)
        isolate.set_rlimits(job["limits"])
        isolate.confine(seccomp)
        channel = Channel(channel_fd)
        # The job's environment (its gateway credential included) comes straight from the engine on
        # the job's own channel: it never passes through the zygote.
        setup = channel.receive()
        if setup.get("type") != "setup":
            raise ValueError(f"expected setup from the engine, got {setup.get('type')!r}")
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in setup["env"].items()})
        tempfile.tempdir = None  # TMPDIR is read again
        cwd = setup["cwd"]
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
    except BaseException:
        _fail("job setup")
    from .main import serve

    serve(channel)  # says ready, runs the job, exits


class Zygote:
    def __init__(self, channel: Channel, seccomp: bytes):
        self.channel = channel
        self.seccomp = seccomp
        self.pid = os.getpid()
        self.children = {}  # C's pid -> job_id
        self.releases = {}  # job_id -> write end of C's release pipe

    def fork(self, message: dict) -> None:
        job = {"job_id": str(message["job_id"]), "token": str(message["token"]), "limits": dict(message["limits"])}
        job_id = job["job_id"]
        if job_id in self.releases or "/" in job_id:
            self.channel.send("fork_failed", job_id=job_id, error="bad or duplicate job_id")
            return
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError as err:
            os.close(read_fd)
            os.close(write_fd)
            self.channel.send("fork_failed", job_id=job_id, error=str(err))
            return
        if pid == 0:
            _run_child(job, read_fd, self.seccomp, self.pid)
        os.close(read_fd)
        self.children[pid] = job_id
        self.releases[job_id] = write_fd
        self.channel.send("forked", job_id=job_id, pid_in_ns=pid)

    def release(self, job_id: str, go: bool) -> None:
        write_fd = self.releases.pop(job_id, None)
        if write_fd is None:
            return
        try:
            if go:
                os.write(write_fd, b"r")
        except OSError:
            pass  # C is gone already; its reaped report follows
        os.close(write_fd)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job_id = self.children.pop(pid, None)
            if job_id is None:
                continue
            self.release(job_id, go=False)
            code = None
            sig = None
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
            else:
                code = os.WEXITSTATUS(status)
                if code > 128 and code - 128 < signal.NSIG:
                    code, sig = None, code - 128
            self.channel.send("reaped", job_id=job_id, code=code, signal=sig)

    def serve(self) -> None:
        wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        while True:
            try:
                ready, _, _ = select.select([_CHANNEL_FD, wake_read], [], [])
            except InterruptedError:
                continue
            if wake_read in ready:
                try:
                    os.read(wake_read, 4096)
                except BlockingIOError:
                    pass
                self.reap()
            if _CHANNEL_FD in ready:
                try:
                    message = self.channel.receive()
                except EOFError:
                    # The engine is gone or done with this zygote: exit, and the children die with it (PDEATHSIG).
                    os._exit(0)
                kind = message.get("type")
                if kind == "fork":
                    self.fork(message)
                elif kind in ("release", "abandon"):
                    self.release(str(message.get("job_id")), go=kind == "release")
                # anything else: ignored (a newer engine's message)


_WARM_UP_PROGRAM = """
from typing import Annotated, TypedDict
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

class State(TypedDict):
    messages: Annotated[list, add_messages]

def reply(state: State):
    return {"messages": [AIMessage(content="ok")]}

builder = StateGraph(State)
builder.add_node("reply", reply)
builder.add_edge(START, "reply")
builder.add_edge("reply", END)
app = builder.compile()
"""


class _WarmUpChannel:
    """A channel to nowhere: a store with no checkpoints that takes every write, and no listener."""

    def send(self, type_: str, **fields) -> None:
        pass

    def request(self, type_: str, op: str, args: dict):
        return [] if op == "list" else None


def _warm_up() -> None:
    """Runs one job of the engine's own through the runner, as a child would run its first.

    A first run builds what LangGraph and asyncio build lazily (modules imported on first use,
    compiled regexes, type-hint caches, the event loop's machinery); built here once, those pages
    are shared by every child instead of being built again in each (measured: ~3 ms of CPU less
    per child). It is the engine's own program: no tenant data enters the zygote.
    """
    import asyncio

    from .loader import MODULE_NAME
    from .runner import run

    job = {
        "code": _WARM_UP_PROGRAM, "thread_id": "warm-up", "stream": True, "debug": False, "resume": None,
        "inputs": {"messages": [{"role": "user", "content": "warm up"}]},
        "config": {"recursion_limit": 25, "configurable": {}, "interrupt_before": [], "interrupt_after": []},
    }
    asyncio.run(run(job, _WarmUpChannel()))
    sys.modules.pop(MODULE_NAME, None)
    # asyncio.run joined the executor's threads; a thread left now would break fork()'s copy of locks.
    # A joined thread's OS thread may take a moment more to exit, so wait for it, briefly.
    deadline = time.monotonic() + 2
    while len(os.listdir("/proc/self/task")) != 1:
        if threading.active_count() != 1 or time.monotonic() > deadline:
            raise SystemExit("graphbox zygote: the warm-up left a thread running")
        time.sleep(0.001)


def _warm_llm_clients(base_urls: dict | None) -> None:
    """Builds the LLM clients' HTTP clients for the URLs the children will use (the gateway's).

    LangChain caches one HTTP client per base URL, and the first costs ~40 ms of CPU (its TLS
    context); built here, every child's `ChatOpenAI(...)` finds it made. The clients hold no key
    (a model's key is sent per request) and no connection: a child's first request opens its own.
    """
    if not base_urls:
        return
    from langchain_anthropic import ChatAnthropic
    from langchain_openai import ChatOpenAI

    openai = ChatOpenAI(model="gpt-4o-mini", base_url=base_urls["openai"], api_key="warm-up")
    openai.client, openai.async_client  # noqa: B018 (built on first use)
    ChatAnthropic(model="claude-3-5-haiku-latest", base_url=base_urls["anthropic"], api_key="warm-up")


def main() -> None:
    isolate.die_with_parent()
    channel = Channel(_CHANNEL_FD)
    init = channel.receive()
    if init.get("type") != "init":
        raise SystemExit(f"graphbox zygote: expected init, got {init.get('type')!r}")
    seccomp = base64.b64decode(init["seccomp"])

    # Everything a job imports, imported once here (the children share these pages copy-on-write).
    from . import bridge, checkpointer, errors, meter, packages, runner, serialize  # noqa: F401
    from .loader import seed_globals
    from .main import _versions

    seed_globals()
    packages.preload()
    _warm_up()
    _warm_llm_clients(init.get("llm_base_urls"))
    versions = _versions()
    # Objects that survive imports are never collected: moving them out of the collector's sight
    # keeps each child's first collections from touching (and copying) every page of them.
    gc.collect()
    gc.freeze()
    channel.send("zygote_ready", pid_in_ns=os.getpid(), versions=versions)
    Zygote(channel, seccomp).serve()
