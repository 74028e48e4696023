"""``PageHelper``: what ipywidgets can't say to a keyboard or a screen reader, said in the page.

* accessible names (``aria-label``) for controls whose visible label isn't linked to them: a
  slider's handle, a select or text box without ``description``;
* Ctrl+Enter (Cmd+Enter) in the chord box presses Generate.

A widget to name gets a class ``wb-name-<n>``; the ES module labels the controls inside every
element with that class (again when the widgets re-render), and removes its listeners when its
view goes away. It draws nothing.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import ipywidgets as w
import traitlets

HERE = Path(__file__).resolve().parent


class PageHelper(anywidget.AnyWidget):
    """``PageHelper(names={widget: "name"}, submit=(textarea, button))``."""

    _esm = HERE / "a11y.js"

    labels = traitlets.Dict({}).tag(sync=True)      # css class -> accessible name
    submit_from = traitlets.Unicode("").tag(sync=True)
    submit_to = traitlets.Unicode("").tag(sync=True)

    def __init__(self, names: dict | None = None, submit=None, **kwargs):
        kwargs.setdefault("layout", w.Layout(display="none"))
        super().__init__(**kwargs)
        labels = {}
        for i, (widget, name) in enumerate((names or {}).items()):
            cls = f"wb-name-{i}"
            widget.add_class(cls)
            labels[cls] = name
        self.labels = labels
        if submit is not None:
            text, button = submit
            text.add_class("wb-submit-from")
            button.add_class("wb-submit-to")
            self.submit_from, self.submit_to = "wb-submit-from", "wb-submit-to"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = super()._repr_mimebundle_(include=include, exclude=exclude, **kwargs)
        bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        bundle["text/plain"] = "PageHelper()"
        return bundle
