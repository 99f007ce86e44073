"""The PySide6 user interface. Nothing outside this package imports Qt.

Rooms by role (docs/adr/0011): ``canvas/`` (the image and what is drawn over it), ``editing/`` (tools,
editor, undo), ``docks/``, ``compare/``, ``dialogs/``. On top, ``app`` starts the window and
``main_window`` builds and wires it, with its helpers beside it (``window_actions``, ``window_state``,
``model_control``, ``layer_display``…). Imports go one way, checked by the import-linter contracts in
pyproject.toml: nothing below the window imports it.
"""
