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

from . import (
    asyncserver,
    chat,
    clients,
    eventloop,
    events,
    framing,
    loopchat,
    redis_server,
    resp,
    servers,
    widgets,
)
from .asyncserver import *  # noqa: F401,F403
from .chat import *  # noqa: F401,F403
from .clients import *  # noqa: F401,F403
from .eventloop import *  # noqa: F401,F403
from .events import *  # noqa: F401,F403
from .exercises import check
from .framing import *  # noqa: F401,F403
from .loopchat import *  # noqa: F401,F403
from .redis_server import *  # noqa: F401,F403
from .servers import *  # noqa: F401,F403
from .widgets import *  # noqa: F401,F403

__version__ = "0.1.0"

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
    + widgets.__all__
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
