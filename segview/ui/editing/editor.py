"""The editor: tools, selection, accept/reject of predictions and segment operations for the image on
screen, with one undo history per image. Tool logic lives in ``segview.ui.editing.tools``; this wires it to
the window (actions, tool bar, docks) and to the fast redraw of ``segview.ui.canvas.edit_redraw``.

The editor does not know the main window: it asks for what it needs through ``EditorWindow`` and says
what happened through its signals.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
from PySide6.QtCore import QObject, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import QMenu, QStatusBar, QToolBar, QUndoView

from segview.core import category_edits, edits
from segview.core.categories import CategorySet
from segview.core.history import Edit, EditHistory
from segview.core.segments import VOID, Annotation
from segview.core.workspace import ImageEntry, Workspace
from segview.ui.canvas.canvas import ImageCanvas
from segview.ui.canvas.edit_redraw import AnnotationRedraw
from segview.ui.editing.accept_job import AcceptJob, needs_background
from segview.ui.editing.candidate_tool import CandidateTool
from segview.ui.editing.prompt_session import PromptSession, prompt_models
from segview.ui.editing.prompt_tool import PromptTool
from segview.ui.editing.tools import TOOL_TYPES, Tool
from segview.ui.editing.tools_panel import MAX_BRUSH, ToolsPanel
from segview.ui.editing.undo import UndoStacks
from segview.ui.editing.vertex_tool import VertexTool
from segview.ui.inference_bridge import InferenceBridge
from segview.ui.resources import TOOL_ICONS


class EditorWindow(Protocol):
    """What the editor needs from the window that holds it (a QMainWindow: the parent of its actions and
    dialogs, whose status bar shows its messages)."""

    canvas: ImageCanvas
    workspace: Workspace
    bridge: InferenceBridge  # the prompt tool's requests go to the model process through it
    settings: QSettings

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt API
    def addAction(self, action: QAction) -> None: ...  # noqa: N802 - Qt API
    def refresh_layers(self) -> None: ...  # recompute every layer of the image on screen
    def refresh_legend(self) -> None: ...  # the class shares changed
    def edited(self) -> None: ...  # after an edit step


BRUSH_STEP = 1.25


class EditActions(NamedTuple):
    undo: QAction
    redo: QAction
    accept_all: QAction
    delete: QAction
    merge: QAction
    split: QAction
    crowd: QAction
    relabel: QAction
    select_none: QAction
    brush_smaller: QAction
    brush_larger: QAction


class Editor(QObject):
    """Edits the current image's annotation; implements the ``ToolContext`` the tools talk to."""

    status_changed = Signal(int)  # an image's status changed (it got an annotation)
    history_created = Signal(object, object)  # image path, EditHistory
    selection_changed = Signal(list)  # the selected annotation segment ids
    refreshed = Signal()  # another image (or none) is edited, or its layers were recomputed
    categories_adopted = Signal(object)  # the first edit made the model's classes the project's (a CategorySet)

    def __init__(self, window: EditorWindow) -> None:
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.panel = ToolsPanel()
        self.redraw = AnnotationRedraw(self.canvas)
        self.accept_job = AcceptJob(self, self)  # accept all on a big image, off the GUI thread
        self.accept_job.finished.connect(lambda _history: self._keep_existing_selection())
        self.stacks = UndoStacks(window, on_new=self._new_history, batch=self.redraw.batch)
        self.history_view = QUndoView(self.stacks.group)
        self.history_view.setObjectName("history-view")
        self.history_view.setEmptyLabel("Opened")
        self.index: int | None = None
        self.entry: ImageEntry | None = None
        self.image: np.ndarray | None = None
        self.category_id = 0
        self.brush_radius = float(self.panel.brush.value())
        self._auto_radius = self.panel.brush.value()  # the size chosen for the user, until they choose
        self.selection: list[int] = []
        self.tools: dict[str, Tool] = {t.name: t(self) for t in (*TOOL_TYPES, PromptTool, CandidateTool, VertexTool)}
        self.prompts = PromptSession(window.bridge, window.settings, self)
        self.prompts.ready.connect(self._prompt_ready)
        self.prompts.failed.connect(self._prompt_failed)
        window.bridge.embedding_ready.connect(self._prompt_image_ready)
        self.toolbar = QToolBar("Tools")
        self.toolbar.setObjectName("toolbar-tools")
        self.tool_actions = self._make_tool_actions()
        self.actions_ = self._make_actions()
        self.panel.category_changed.connect(self._category_picked)
        self.panel.radius_changed.connect(self._radius_changed)
        self.canvas.digit_pressed.connect(self._digit)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self._context_menu)
        self.set_tool("hand")
        self._update_actions()

    # --- construction ------------------------------------------------------------------------------

    def _action(self, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def _make_tool_actions(self) -> dict[str, QAction]:
        group = QActionGroup(self)
        actions = {}
        for name, tool in self.tools.items():
            action = self._action(tool.label, tool.shortcut, lambda _c=False, n=name: self.set_tool(n))
            action.setCheckable(True)
            action.setObjectName(f"tool-{name}")
            action.setIcon(QIcon(str(TOOL_ICONS / f"{name}.svg")))
            action.setToolTip(f"{tool.label} ({tool.shortcut})")
            group.addAction(action)
            self.toolbar.addAction(action)
            actions[name] = action
        return actions

    def _make_actions(self) -> EditActions:
        undo = self.stacks.group.createUndoAction(self.window, "&Undo")
        undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        redo = self.stacks.group.createRedoAction(self.window, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action in (undo, redo):
            self.window.addAction(action)
        return EditActions(
            undo=undo,
            redo=redo,
            accept_all=self._action("&Accept All Predictions", "Ctrl+Return", self.accept_all),
            delete=self._action("&Delete Selected", [QKeySequence.StandardKey.Delete, "Backspace"], self.delete_selected),
            merge=self._action("&Merge Selected", "M", self.merge_selected),
            split=self._action("&Split Selected into Parts", "Shift+X", self.split_selected),
            crowd=self._action("Toggle &Crowd", "Shift+C", self.toggle_crowd),
            relabel=self._action("&Relabel Selected to Current Class", "L", self.relabel_selected),
            select_none=self._action("Select &None", "Ctrl+Shift+A", lambda: self.select([])),
            brush_smaller=self._action("Smaller Brush", "[", lambda: self._resize_brush(1 / BRUSH_STEP)),
            brush_larger=self._action("Larger Brush", "]", lambda: self._resize_brush(BRUSH_STEP)),
        )

    def fill_menu(self, menu: QMenu) -> None:
        """The Edit menu: undo/redo, accepting predictions, segment operations, tools."""
        a = self.actions_
        menu.addActions([a.undo, a.redo])
        menu.addSeparator()
        menu.addAction(a.accept_all)
        menu.addSeparator()
        menu.addActions([a.delete, a.merge, a.split, a.crowd, a.relabel, a.select_none])
        menu.addSeparator()
        tools = menu.addMenu("&Tools")
        tools.addActions(list(self.tool_actions.values()))
        tools.addSeparator()
        tools.addActions([a.brush_smaller, a.brush_larger])
        self._fill_prompt_models(tools.addMenu("&Prompt Model"))

    def _fill_prompt_models(self, menu: QMenu) -> None:
        """One checkable entry per prompt card (the SAM family): the model the prompt tool (T) uses. Listed
        again each time the menu opens, so a card added meanwhile is there."""
        self._list_prompt_models(menu)
        menu.aboutToShow.connect(lambda: self._list_prompt_models(menu))

    def _list_prompt_models(self, menu: QMenu) -> None:
        for old in menu.findChildren(QActionGroup):
            old.deleteLater()
        menu.clear()  # deletes the entries it owns
        group = QActionGroup(menu)
        for name, title in prompt_models():
            action = menu.addAction(title, lambda n=name: self._choose_prompt_model(n))
            action.setCheckable(True)
            action.setChecked(name == self.prompts.model)
            action.setObjectName(f"prompt-model-{name}")
            group.addAction(action)

    def _choose_prompt_model(self, name: str) -> None:
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.prompts.set_model(name)
        self._prepare_prompts()

    # --- the image on screen --------------------------------------------------------------------------

    def set_image(self, index: int, entry: ImageEntry, image: np.ndarray) -> None:
        """Edit another image (its history, if any, is kept from before)."""
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.index, self.entry, self.image = index, entry, image
        self.selection = []
        self._fit_brush(image.shape[:2])
        if entry.annotation is not None and self.stacks.get(entry.path) is not None:
            self.stacks.history(entry.path, entry.annotation)  # a replaced annotation gets a new history
        self.stacks.activate(entry.path)
        self.layers_refreshed()
        self._prepare_prompts()

    def _fit_brush(self, shape: tuple[int, int]) -> None:
        """Scale the brush with the image (about 1.5 % of its longer side) until the user picks a size,
        so that a stroke on a 6000-pixel photo is as visible as on a 640-pixel one."""
        if self.panel.brush.value() != self._auto_radius:
            return  # the user chose a size: keep it
        self._auto_radius = int(min(max(round(max(shape) / 64), 4), MAX_BRUSH))
        self.panel.brush.setValue(self._auto_radius)

    def layers_refreshed(self) -> None:
        """The window recomputed every layer (new image, result or categories)."""
        categories = self.categories()
        self.panel.set_categories(categories)
        self.category_id = self.panel.category_id()
        self.redraw.attach(self.entry, self.window.workspace.categories)
        self.select([s for s in self.selection if self.entry and self.entry.annotation
                     and s in self.entry.annotation.segments])
        self.refreshed.emit()

    def detach(self) -> None:
        """No image to edit (the one chosen cannot be read); every history is kept."""
        if self.canvas.tool is not None:
            self.canvas.tool.cancel()
        self.index = self.entry = self.image = None
        self.selection = []
        self.stacks.activate(None)
        self.redraw.attach(None, CategorySet())
        self._update_actions()
        self.refreshed.emit()

    def clear(self) -> None:
        """Another folder was opened: forget every history."""
        self.accept_job.cancel()
        self.stacks.clear()
        self.index = self.entry = self.image = None
        self.selection = []
        self.redraw.attach(None, CategorySet())
        self._update_actions()
        self.refreshed.emit()

    def categories(self) -> CategorySet:
        workspace = self.window.workspace
        return workspace.categories if len(workspace.categories) else workspace.model_categories

    # --- ToolContext ------------------------------------------------------------------------------------

    @property
    def add_hole(self) -> bool:
        return self.panel.add_hole.isChecked()

    @property
    def pixel_size(self) -> float:
        """Image pixels per screen pixel at the current zoom."""
        return 1.0 / max(self.canvas.scale_factor(), 1e-6)

    def annotation(self) -> Annotation | None:
        return None if self.entry is None else self.entry.annotation

    def fused(self) -> Annotation | None:
        return None if self.entry is None else self.entry.fused

    def history(self) -> EditHistory | None:
        """The current image's history; its annotation is created (empty) on the first edit."""
        entry = self.entry
        if entry is None or self.image is None:
            return None
        if self.accept_job.running:  # its step is being written: nothing may come between
            self.window.statusBar().showMessage("Still accepting the predictions: edit again in a moment", 3000)
            return None
        if entry.annotation is None and not len(self.categories()):
            # Nothing to label with yet: a segment of class 0 would be invalid in every export.
            self.window.statusBar().showMessage(
                "No classes yet: wait until the model has loaded its classes, or add one in the Classes tab.", 10000)
            return None
        if entry.annotation is None:
            workspace = self.window.workspace
            entry.annotation = Annotation(*self.image.shape[:2])
            entry.blank_start, entry.all_undone = True, False
            history = self.stacks.history(entry.path, entry.annotation)
            if not len(workspace.categories) and len(workspace.model_categories):
                workspace.categories = CategorySet(list(workspace.model_categories))
                self.categories_adopted.emit(workspace.categories)  # saved, and the layers refreshed once
            else:
                self.window.refresh_layers()
            self.status_changed.emit(self.index)
        else:
            history = self.stacks.history(entry.path, entry.annotation)
        self.stacks.activate(entry.path)
        return history

    def select(self, ids: list[int]) -> None:
        """Make these annotation segments the selection."""
        self.selection = list(dict.fromkeys(ids))
        self.redraw.set_selection(self.selection)
        annotation = self.annotation()
        if not self.selection or annotation is None:
            self.panel.set_selection("Nothing selected")
        else:
            names = []
            for sid in self.selection[:5]:
                category = self.categories().get(annotation.segments[sid].category_id) if sid in annotation.segments else None
                names.append(f"#{sid} {category.name if category else ''}")
            self.panel.set_selection("Selected: " + ", ".join(names) + (" …" if len(self.selection) > 5 else ""))
        self._update_actions()
        self._reload_outline()
        self.selection_changed.emit(list(self.selection))

    def _reload_outline(self) -> None:
        tool = self.tools["vertices"]
        if self.canvas.tool is tool and not tool.busy():
            tool.load(self.selection[0] if self.selection else None)

    def accept(self, ids: list[int] | None, mode: str = "") -> None:
        """Copy fused segments (all with None) into the annotation, as one undo step; for all of them,
        ``mode`` REPLACE drops the annotation first, ADD_WHERE_EMPTY paints only unannotated pixels."""
        from segview.ui.dialogs.accept_prompt import ADD_WHERE_EMPTY, REPLACE

        fused = self.fused()
        if fused is None or not fused.segments:
            self.window.statusBar().showMessage("No prediction to accept on this image", 5000)
            return
        history = self.history()
        if history is None:
            return
        fused = self._in_project_classes(fused, ids)
        if ids is None and needs_background(history.annotation):  # a big image
            name = {REPLACE: "Replace with all predictions",
                    ADD_WHERE_EMPTY: "Accept all predictions where nothing is annotated"}.get(mode, "Accept all predictions")
            self.accept_job.start(self.entry.path, history, fused, name, replace=mode == REPLACE,
                                  only_void=mode == ADD_WHERE_EMPTY)
            self.window.statusBar().showMessage("Accepting the predictions…", 5000)
            return
        if mode == REPLACE:
            history.begin("Replace with all predictions")
            history.apply(edits.delete(history.annotation, list(history.annotation.segments)))
            history.apply(edits.accept(history.annotation, fused)[1])
            history.commit()
            self.select([])
            return
        new_ids, atom = edits.accept(history.annotation, fused, ids, only_void=mode == ADD_WHERE_EMPTY)
        if atom is None and mode == ADD_WHERE_EMPTY:
            self.window.statusBar().showMessage("Nothing added: the prediction lies where the image is annotated",
                                                5000)
        name = "Accept all predictions" if ids is None else f"Accept segment {ids[0]}"
        history.apply(atom, name + (" where nothing is annotated" if mode == ADD_WHERE_EMPTY else ""))
        if ids is not None:
            self.select(new_ids)

    def _in_project_classes(self, fused: Annotation, ids: list[int] | None) -> Annotation:
        """The prediction with the project's class ids (matched by name); the classes of the accepted
        segments that the project lacks are added to it first, saved and shown like any class edit."""
        workspace = self.window.workspace
        merged, relabelled = category_edits.in_project_classes(
            workspace.categories, workspace.model_categories, fused, ids)
        if merged != workspace.categories:
            added = ", ".join(c.name for c in merged if c.id not in workspace.categories)
            workspace.categories = merged
            self.categories_adopted.emit(merged)
            self.window.statusBar().showMessage(f"Added the model's classes {added} to the project", 8000)
        return relabelled

    def _keep_existing_selection(self) -> None:
        annotation = self.annotation()
        self.select([sid for sid in self.selection if annotation is not None and sid in annotation.segments])

    def reject(self, segment_id: int) -> None:
        """Remove a segment from the fused prediction (it stays rejected when fusion reruns)."""
        if self.index is None:
            return
        self.window.workspace.reject(self.index, segment_id)
        self.window.refresh_layers()
        self.window.statusBar().showMessage(f"Rejected predicted segment #{segment_id}", 5000)

    def preview_changed(self) -> None:
        self.canvas.show_tool_preview()

    def request_prompt(self, prompts, multimask: bool, token: int) -> bool:
        """Ask the prompt model for the masks of ``prompts`` on the image on screen (the prompt tool)."""
        if self.entry is None:
            return False
        self.prompts.request(self.entry.path, prompts, multimask, token)
        return True

    def show_status(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 5000)

    def _prepare_prompts(self) -> None:
        """With the prompt tool active, have the embeddings of this image and the next one computed."""
        if self.canvas.tool is not self.tools["prompt"] or self.entry is None or self.index is None:
            return
        entries = self.window.workspace.entries
        following = entries[self.index + 1].path if self.index + 1 < len(entries) else None
        self.prompts.prepare(self.entry.path, following)
        self.window.statusBar().showMessage(f"Prompt tool: preparing this image with {self.prompts.model}…")

    def _prompt_image_ready(self, path, _where: str) -> None:
        if self.canvas.tool is self.tools["prompt"] and self.entry is not None and path == self.entry.path:
            self.window.statusBar().showMessage(
                "Prompt tool: click an object (right click or Shift+click: not this), drag a box; Enter keeps the mask",
                10000)

    def _prompt_ready(self, path, token: int, masks) -> None:
        if self.entry is not None and path == self.entry.path:
            self.tools["prompt"].show_result(token, masks)

    def _prompt_failed(self, path, message: str) -> None:
        if path is None or (self.entry is not None and path == self.entry.path):
            self.window.statusBar().showMessage(f"Prompt: {message}", 10000)

    # --- actions ---------------------------------------------------------------------------------------

    def set_tool(self, name: str) -> None:
        tool = self.tools[name]
        self.canvas.set_tool(tool)
        self.tool_actions[name].setChecked(True)
        self.panel.tool_label.setText(tool.label)
        self._reload_outline()
        if name == "prompt":
            self.prompts.chosen()
        self._prepare_prompts()

    def accept_all(self) -> None:
        """Accept every predicted segment; on an image with annotated segments, ask first (replace them,
        add only where nothing is annotated, or cancel)."""
        from segview.ui.dialogs.accept_prompt import CANCEL, ask_accept_all

        annotation, fused = self.annotation(), self.fused()
        mode = ""
        if annotation is not None and annotation.segments and fused is not None and fused.segments:
            mode = ask_accept_all(self.window, len(annotation.segments))
            if mode == CANCEL:
                return
        self.accept(None, mode)

    def _selected(self) -> tuple[EditHistory, list[int]] | None:
        annotation = self.annotation()
        ids = [sid for sid in self.selection if annotation is not None and sid in annotation.segments]
        history = self.history() if ids else None
        return None if history is None else (history, ids)

    def delete_selected(self) -> None:
        found = self._selected()
        if found:
            history, ids = found
            history.apply(edits.delete(history.annotation, ids), f"Delete {_count(ids)}")
            self.select([])

    def merge_selected(self) -> None:
        found = self._selected()
        if found and len(found[1]) > 1:
            history, ids = found
            history.apply(edits.merge(history.annotation, ids), f"Merge {_count(ids)}")
            self.select(ids[:1])

    def split_selected(self) -> None:
        found = self._selected()
        if not found:
            return
        history, ids = found
        history.begin(f"Split {_count(ids)}")
        parts: list[int] = []
        for sid in ids:
            part_ids, atom = edits.split(history.annotation, sid)
            history.apply(atom)
            parts.extend(part_ids)
        history.commit()
        self.select(parts)
        if len(parts) == len(ids):  # say why nothing happened
            self.window.statusBar().showMessage(
                f"Nothing to split: {'the selected segment is' if len(ids) == 1 else 'each selected segment is'} "
                "one connected piece", 5000)

    def toggle_crowd(self) -> None:
        found = self._selected()
        if found:
            history, ids = found
            crowd = not all(history.annotation.segments[sid].iscrowd for sid in ids)
            history.apply(edits.set_crowd(history.annotation, ids, crowd), "Crowd" if crowd else "Not crowd")

    def relabel_selected(self, category_id: int | None = None) -> None:
        found = self._selected()
        category_id = self.category_id if category_id is None else category_id
        if found and category_id:
            history, ids = found
            category = self.categories().get(category_id)
            name = category.name if category else str(category_id)
            history.apply(edits.relabel(history.annotation, ids, category_id), f"Relabel {_count(ids)} as {name}")
            self.select(ids)

    # --- reactions ---------------------------------------------------------------------------------------

    def _new_history(self, key: object, history: EditHistory) -> None:
        history.change_listeners.append(lambda box, k=key: self._changed(k, box))
        history.step_listeners.append(lambda kind, edit, k=key: self._stepped(k, kind, edit))
        self.history_created.emit(key, history)

    def _changed(self, key: object, box) -> None:
        if self.entry is not None and key == self.entry.path:
            self.redraw.changed(box)

    def _stepped(self, key: object, kind: str, edit: Edit) -> None:
        if self.entry is None or key != self.entry.path:
            return
        history = self.stacks.get(key)
        before = self.entry.status
        self.entry.all_undone = history is not None and not history.done
        if self.entry.status != before:  # undone back to the empty start, or out of it again
            self.status_changed.emit(self.index)
        annotation = self.annotation()
        if kind != "do" and annotation is not None:
            self.select([sid for sid in self.selection if sid in annotation.segments])  # reloads outlines
        self.window.refresh_legend()
        self.window.edited()

    def escape(self) -> bool:
        """Escape pressed outside a batch: drop what the tool has in progress (a half-drawn polygon, a
        stroke), else the selection. False when there was nothing to drop."""
        tool = self.canvas.tool
        if tool is not None and tool.busy():
            tool.cancel()
            self.preview_changed()
            return True
        if self.selection:
            self.select([])
            return True
        return False

    def _update_actions(self) -> None:
        a, n = self.actions_, len(self.selection)
        for action in (a.delete, a.split, a.crowd, a.relabel):
            action.setEnabled(n > 0)
        a.merge.setEnabled(n > 1)

    def _category_picked(self, category_id: int) -> None:
        self.category_id = category_id

    def _radius_changed(self, radius: float) -> None:
        self.brush_radius = radius
        self.preview_changed()

    def _resize_brush(self, factor: float) -> None:
        value = self.panel.brush.value()
        new = round(value * factor)
        new = new if new != value else value + (1 if factor > 1 else -1)
        self.panel.brush.setValue(int(min(max(new, 1), MAX_BRUSH)))

    def _digit(self, number: int) -> None:
        ids = self.panel.category_ids()
        if number > len(ids):
            return
        self.panel.set_category(ids[number - 1])
        if self.canvas.tool is self.tools["select"] and self.selection:
            self.relabel_selected(ids[number - 1])

    def _context_menu(self, pos: QPoint) -> None:
        point = self.canvas.mapToScene(pos)
        x, y = int(np.floor(point.x())), int(np.floor(point.y()))
        menu = QMenu(self.canvas)
        fused = self.fused()
        if fused is not None and 0 <= x < fused.width and 0 <= y < fused.height:
            sid = int(fused.segment_map[y, x])
            if sid != VOID:
                menu.addAction(f"Accept predicted segment #{sid}", lambda: self.accept([sid]))
                menu.addAction(f"Reject predicted segment #{sid}", lambda: self.reject(sid))
        menu.addAction(self.actions_.accept_all)
        if self.selection:
            menu.addSeparator()
            menu.addActions([self.actions_.delete, self.actions_.merge, self.actions_.split,
                             self.actions_.crowd, self.actions_.relabel])
        menu.exec(self.canvas.viewport().mapToGlobal(pos))


def _count(ids: list[int]) -> str:
    return f"segment {ids[0]}" if len(ids) == 1 else f"{len(ids)} segments"
