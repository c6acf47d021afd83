"""Carries the program's plain HTTP on 127.0.0.1:<port> to the engine's gateway socket.

Inside the sandbox there is no network but loopback, and the gateway is a Unix socket bound in
at GRAPHBOX_GATEWAY_SOCKET. LLM clients only speak TCP, so this forwards each connection, byte
for byte in both directions, to that socket. It parses nothing: the gateway checks everything.
"""

import socket
import threading

_CHUNK = 65536


def start(socket_path: str, port: int) -> None:
    """Listens on 127.0.0.1:port (the sandbox's own loopback) and forwards in daemon threads."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    threading.Thread(target=_accept, args=(listener, socket_path), name="graphbox-bridge", daemon=True).start()


def _accept(listener: socket.socket, socket_path: str) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_serve, args=(client, socket_path), name="graphbox-bridge-conn", daemon=True).start()


def _serve(client: socket.socket, socket_path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(socket_path)
    except OSError:
        upstream.close()
        client.close()  # the client sees a dropped connection, as with a gateway that is down
        return
    back = threading.Thread(target=_pipe, args=(upstream, client), name="graphbox-bridge-back", daemon=True)
    back.start()
    _pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copies until `source` ends, then passes the end on (half-close), so each side sees the other finish."""
    try:
        while True:
            data = source.recv(_CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    try:
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass
