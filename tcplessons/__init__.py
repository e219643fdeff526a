"""tcplessons: real TCP servers in background threads, for learning TCP in a notebook.

Start here::

    from tcplessons import start_echo_server, connect
    server = start_echo_server()            # listening on 127.0.0.1, a free port
    with connect(server.address) as sock:
        sock.sendall(b"hello")
        print(sock.recv(1024))
    server.log.show()                       # what the server saw, line by line
    server.stop()

Exercises: ``check("recv_exactly", recv_exactly)`` runs the checks of one exercise.
Instructors: ``python -m tcplessons grade NOTEBOOK...``.
"""

from . import chat, clients, events, framing, servers
from .chat import *  # noqa: F401,F403
from .clients import *  # noqa: F401,F403
from .events import *  # noqa: F401,F403
from .exercises import check
from .framing import *  # noqa: F401,F403
from .servers import *  # noqa: F401,F403

__version__ = "0.1.0"

#: tcplessons.widgets' names, imported from it (and so from ipywidgets) on first use: the
#: grader and the checks never load ipywidgets.  tests/test_grading.py keeps this in step.
_WIDGETS = ("ChatWindow", "StreamView", "Switchboard", "wait_for_bytes")


def __getattr__(name: str):
    if name == "widgets" or name in _WIDGETS:
        import importlib

        widgets = importlib.import_module(".widgets", __name__)
        return widgets if name == "widgets" else getattr(widgets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = sorted(
    events.__all__
    + servers.__all__
    + clients.__all__
    + framing.__all__
    + chat.__all__
    + list(_WIDGETS)
    + ["check", "versions"]
)


def versions() -> str:
    """The versions a notebook runs with: shown by every lesson's first cell."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}", f"tcplessons {__version__}"]
    for name in ("ipykernel", "ipywidgets"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)
