"""A chat window: a live member of a chat room, shown as a widget in the notebook.

::

    server = start_chat_server()
    window = ChatWindow(server, "you")
    display(window)                 # a message list, an input box and a Send button
    window.send("hello")            # what the button does
    print(window.text())            # the transcript, for output that never changes
    window.close()

The window is a real TCP client of the server (a :class:`~tcplessons.ChatClient`).  It is
built in the main thread; its reader thread updates it through one locked path.
"""

from __future__ import annotations

import html

from ..chat_client import ChatClient

__all__ = ["ChatWindow"]


class ChatWindow(ChatClient):
    """A :class:`~tcplessons.ChatClient` with a message list, an input box and a button.

    Display it with ``display(window)``.  ``send(text)`` does what the button does,
    ``text()`` is the transcript, ``wait_for(line)`` waits for a line to arrive,
    ``close()`` hangs up.
    """

    #: How many lines the message list shows (the transcript keeps more).
    SHOWN = 30
    #: Longer lines are cut in the message list (not in the transcript).
    WIDTH = 200

    def __init__(self, server, name: str, **options):
        import ipywidgets as widgets  # built here, in the main thread

        self._messages = widgets.HTML(value="")
        self._input = widgets.Text(placeholder="type a message", continuous_update=False)
        self._button = widgets.Button(description="Send")
        self._button.on_click(self._on_click)
        # With continuous_update=False the box reports its value when you press Enter:
        # Enter sends, like the button.
        self._input.observe(self._on_enter, names="value")
        self.box = widgets.VBox(
            [
                widgets.HTML(value=f"<b>chat as {html.escape(name)}</b>"),
                self._messages,
                widgets.HBox([self._input, self._button]),
            ]
        )
        super().__init__(server, name, **options)
        self._render()

    def _on_click(self, _button) -> None:
        self._send_box()

    def _on_enter(self, change) -> None:
        if change["new"]:
            self._send_box()

    def _send_box(self) -> None:
        text, self._input.value = self._input.value, ""
        if text.strip() and not self._closed:
            self.send(text)

    def _show(self, line: str) -> None:  # called with the transcript lock held
        self._render_locked()

    def _render(self) -> None:
        with self._changed:
            self._render_locked()

    def _render_locked(self) -> None:
        shown = []
        for line in self._lines[-self.SHOWN :]:
            if len(line) > self.WIDTH:
                line = line[: self.WIDTH] + "…"
            shown.append(html.escape(line))
        self._messages.value = (
            "<pre style='margin:0;max-height:20em;overflow:auto'>" + "\n".join(shown) + "</pre>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle["text/plain"] = repr(self)
        return bundle

    def close(self) -> None:
        super().close()
        self._button.disabled = True
        self._input.disabled = True

    def __repr__(self) -> str:
        return f"<ChatWindow {self.name!r}>"
