"""Live widgets for the notebooks (ipywidgets), built in the main thread and updated from
server threads through one locked path.  Each has a constant ``__repr__`` so notebook
output compares the same on every run."""

from . import chat_window, stream_view, switchboard
from .chat_window import *  # noqa: F401,F403
from .stream_view import *  # noqa: F401,F403
from .switchboard import *  # noqa: F401,F403

__all__ = switchboard.__all__ + chat_window.__all__ + stream_view.__all__
