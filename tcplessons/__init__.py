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
Errors: ``explain()`` says what the last socket error means; ``explain_errors()`` adds
that as one line under every socket error's traceback (every lesson's first cell).
Instructors: ``python -m tcplessons grade NOTEBOOK...``.
"""

from . import portable

# TCPLESSONS_PORTABLE=1 switches the Linux-only socket behaviours off (see portable.py).
portable.install_from_environment()

from . import (  # noqa: E402
    asyncserver,
    chat,
    clients,
    errors,
    eventloop,
    events,
    framing,
    loopback,
    loopchat,
    redis_server,
    servers,
    slow_network,
    states,
)
from .asyncserver import *  # noqa: E402,F401,F403
from .chat import *  # noqa: E402,F401,F403
from .clients import *  # noqa: E402,F401,F403
from .errors import *  # noqa: E402,F401,F403
from .eventloop import *  # noqa: E402,F401,F403
from .events import *  # noqa: E402,F401,F403
from .exercises import check  # noqa: E402,F401
from .framing import *  # noqa: E402,F401,F403
from .glossary import error_glossary  # noqa: E402,F401
from .loopback import *  # noqa: E402,F401,F403
from .loopchat import *  # noqa: E402,F401,F403
from .redis_server import *  # noqa: E402,F401,F403
from .servers import *  # noqa: E402,F401,F403
from .slow_network import *  # noqa: E402,F401,F403
from .states import *  # noqa: E402,F401,F403

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
    + eventloop.__all__
    + asyncserver.__all__
    + loopchat.__all__
    + redis_server.__all__
    + clients.__all__
    + framing.__all__
    + chat.__all__
    + slow_network.__all__
    + list(_WIDGETS)
    + errors.__all__
    + loopback.__all__
    + states.__all__
    + ["check", "error_glossary", "versions"]
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
