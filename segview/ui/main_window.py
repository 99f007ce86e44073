"""The main window: canvas (or compare grid) in the middle, docks for images, layers, model and legend."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from segview.core.categories import CategorySet
from segview.core.layers import LayerSource, LayerView, describe_pixel, instance_map, layer_data, layer_name
from segview.core.render import layer_style
from segview.core.report import Report
from segview.core.segments import Source
from segview.core.views import class_shares
from segview.core.workspace import ImageEntry, Workspace
from segview.errors import SegviewError
from segview.inference.worker import Priority
from segview.ui.canvas.canvas import ImageCanvas
from segview.ui.canvas.image_loader import ImageLoader
from segview.ui.docks.layers_panel import LAYER_SHORTCUTS, LayersPanel
from segview.ui.docks.legend import LegendPanel
from segview.ui.docks.model_panel import ModelPanel
from segview.ui.docks.vertical_scroll import VerticalScroll
from segview.ui.editing.editor import Editor
from segview.ui.inference_bridge import InferenceBridge
from segview.ui.project_link import ProjectLink
from segview.ui.theme import apply_theme

LAYER_Z = {LayerView.SEMANTIC: 1.0, LayerView.INSTANCE: 2.0, LayerView.PANOPTIC: 3.0}
MAX_RECENT = 8
READ_ONLY_BANNER = "Read-only: edits here are not saved — export them to keep them"


class Actions(NamedTuple):
    open_folder: QAction
    open_dataset: QAction
    quit: QAction
    fit: QAction
    actual_size: QAction
    zoom_in: QAction
    zoom_out: QAction
    next_image: QAction
    previous_image: QAction
    compare: QAction
    boxes: QAction
    run_current: QAction
    run_all: QAction
    cancel: QAction
    shortcuts: QAction
    about: QAction


class MainWindow(QMainWindow):
    """segview's viewer window over a Workspace, with background inference through InferenceBridge."""

    def __init__(self, settings: QSettings | None = None, device: str = "auto") -> None:
        super().__init__()
        self.setWindowTitle("segview")
        self.settings = settings or QSettings("segview", "segview")
        self.workspace = Workspace()
        self.current: int | None = None
        self._image: np.ndarray | None = None
        self._batch_total = 0
        self._batch_done = 0
        self._box_items: list = []
        self._model_error: str | None = None  # why the chosen model failed to load
        self._model_error_shown: str | None = None  # the status-bar text saying so (cleared by a working model)
        self._image_error: str | None = None  # why the image chosen last could not be shown
        self._opened_annotated = False  # the image on screen had an annotation when it was shown

        self.canvas = ImageCanvas()
        self.canvas.setObjectName("canvas")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.compare = None
        self.setCentralWidget(self.stack)

        self.bridge = InferenceBridge(device, self)
        self.image_loader = ImageLoader(self)
        self.layers_panel = LayersPanel()
        self.model_panel = ModelPanel()
        self.legend = LegendPanel()
        from segview.ui.docks.browser import ImageBrowser

        self.browser = ImageBrowser()
        from segview.ui.docks.classes_panel import ClassesPanel

        self.classes_panel = ClassesPanel(
            in_use=self._category_in_use, model_categories=lambda: self.workspace.model_categories
        )
        self.export_dialog = None
        self._docks = {
            "Images": self._dock("Images", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            "Layers": self._dock("Layers", self.layers_panel, Qt.DockWidgetArea.RightDockWidgetArea, scroll=True),
            "Model": self._dock("Model", self.model_panel, Qt.DockWidgetArea.RightDockWidgetArea, scroll=True),
            "Legend": self._dock("Legend", self.legend, Qt.DockWidgetArea.RightDockWidgetArea),
            "Classes": self._dock("Classes", self.classes_panel, Qt.DockWidgetArea.RightDockWidgetArea, scroll=True),
        }
        self.editor = Editor(self)
        self.project_link = ProjectLink(on_write_error=lambda text: self.statusBar().showMessage(text, 30000))
        self._docks["Tools"] = self._dock("Tools", self.editor.panel, Qt.DockWidgetArea.LeftDockWidgetArea, scroll=True)
        self._docks["History"] = self._dock("History", self.editor.history_view, Qt.DockWidgetArea.LeftDockWidgetArea)
        from segview.ui.docks.objects_panel import ObjectsList

        self.objects = ObjectsList(self, self)
        self._docks["Objects"] = self._dock("Objects", self.objects.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.editor.toolbar)
        self.device_label = QLabel("No model loaded")
        self.device_label.setObjectName("status-device")
        self.statusBar().addPermanentWidget(self.device_label)
        self.read_only_banner = QLabel(READ_ONLY_BANNER)
        self.read_only_banner.setObjectName("status-read-only")
        self.read_only_banner.setStyleSheet(
            "QLabel { background: #ffd666; color: #3a2a00; font-weight: bold; padding: 1px 6px; border-radius: 3px; }")
        self.read_only_banner.setVisible(False)
        self.statusBar().insertPermanentWidget(0, self.read_only_banner)
        self.read_only_notice: QMessageBox | None = None
        self.hover_label = QLabel("")
        self.hover_label.setObjectName("status-hover")
        # A long readout is cut, it must not set the window's minimum width.
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.hover_label, 1)

        self.actions_ = self._make_actions()
        self.actions_.cancel.setEnabled(False)  # until "Run on all images"
        self._make_menus()
        self._connect()
        self._install_classes_and_export()
        self._install_navigation()
        self._restore_settings()

    # --- construction ------------------------------------------------------------------------------

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, scroll: bool = False) -> QDockWidget:
        """A dock around ``widget``; ``scroll`` puts a form-like panel in a vertical scroll area so that
        the window can get short (a laptop screen) without the panel setting its minimum height."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(VerticalScroll(widget) if scroll else widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, shortcut: str | QKeySequence.StandardKey | list | None, slot,
                checkable=False) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, list):  # a main key and its alternatives
            action.setShortcuts([QKeySequence(k) for k in shortcut])
        elif shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> Actions:
        return Actions(
            open_folder=self._action("Open &Folder…", QKeySequence.StandardKey.Open, self._ask_folder),
            open_dataset=self._action("Open &Dataset…", "Ctrl+Shift+O", self._ask_dataset),
            quit=self._action("&Quit", QKeySequence.StandardKey.Quit, self.close),
            fit=self._action("&Fit to Window", "F", self.canvas.fit),
            # Ctrl+1 too: with an editing tool, plain digits pick classes.
            actual_size=self._action("&Actual Size (1:1)", ["1", "Ctrl+1"], self.canvas.actual_size),
            zoom_in=self._action("Zoom &In", [QKeySequence(QKeySequence.StandardKey.ZoomIn), "Ctrl+="],
                                 lambda: self.canvas.zoom_by(1.25)),
            zoom_out=self._action("Zoom &Out", QKeySequence.StandardKey.ZoomOut, lambda: self.canvas.zoom_by(0.8)),
            next_image=self._action("&Next Image", "PgDown", self.browser.select_next),
            previous_image=self._action("&Previous Image", "PgUp", self.browser.select_previous),
            compare=self._action("&Compare View", "C", self._toggle_compare, checkable=True),
            boxes=self._action("Instance &Boxes", "B", lambda _checked=False: self.layers_panel.boxes.toggle(),
                               checkable=True),
            run_current=self._action("&Run on This Image", "R", self._run_current),
            run_all=self._action("Run on &All Images", "Ctrl+R", self._run_all),
            cancel=self._action("&Cancel Batch", "Esc", self._cancel_batch),
            shortcuts=self._action("&Keyboard Shortcuts", "F1", self._show_shortcuts),
            about=self._action("&About segview", None, self._about),
        )

    def _make_menus(self) -> None:
        a = self.actions_
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([a.open_folder, a.open_dataset])
        self.recent_menu = QMenu("Open &Recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        self.editor.fill_menu(self.menuBar().addMenu("&Edit"))
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions([a.fit, a.actual_size, a.zoom_in, a.zoom_out])
        view_menu.addSeparator()
        self.layer_actions: dict[str, QAction] = {}
        toggles = {a.boxes: self.layers_panel.boxes}
        for name, box in self.layers_panel.visible.items():
            action = self._action(f"Show {name.replace('.', ' ')}", LAYER_SHORTCUTS[name],
                                  lambda _checked=False, b=box: b.toggle(), checkable=True)
            self.layer_actions[name] = action
            toggles[action] = box
            view_menu.addAction(action)
        view_menu.addAction(a.boxes)

        def show_states() -> None:  # the panel's boxes are the truth (they switch with the image too)
            for action, box in toggles.items():
                action.setChecked(box.isChecked())

        view_menu.aboutToShow.connect(show_states)
        view_menu.addSeparator()
        view_menu.addActions([a.compare, a.next_image, a.previous_image])
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("&Theme")
        for theme in ("system", "light", "dark"):
            theme_menu.addAction(theme.capitalize(), lambda t=theme: self._set_theme(t))
        docks_menu = view_menu.addMenu("&Panels")
        for dock in self._docks.values():
            docks_menu.addAction(dock.toggleViewAction())
        model_menu = self.menuBar().addMenu("&Model")
        model_menu.addActions([a.run_current, a.run_all, a.cancel])
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addActions([a.shortcuts, a.about])

    def _connect(self) -> None:
        self.browser.current_changed.connect(self.show_image)
        self.layers_panel.changed.connect(self._apply_layer_styles)
        self.legend.hidden_changed.connect(lambda _h: self._apply_layer_styles())
        self.model_panel.model_chosen.connect(self.set_model)
        self.model_panel.params_changed.connect(self._params_changed)
        self.model_panel.run_all.connect(self._run_all)
        self.model_panel.cancel.connect(self._cancel_batch)
        self.canvas.hovered.connect(self._hovered)
        self.editor.status_changed.connect(lambda i: self.browser.set_status(i, self.workspace.entries[i].status))
        self.editor.history_created.connect(
            lambda path, history: self.project_link.attach(path, history, self.workspace.categories))
        self.editor.categories_adopted.connect(self.classes_panel.set_categories)
        self.bridge.prediction_ready.connect(self._prediction_ready)
        self.bridge.failed.connect(self._prediction_failed)
        self.bridge.model_loaded.connect(self._model_loaded)
        self.bridge.model_failed.connect(self._model_failed)
        from segview.ui.weights_offer import WeightsOffer

        self.weights_offer = WeightsOffer(self, self.settings)  # missing weights: download, local file, not now
        self.image_loader.full_ready.connect(self._full_image_ready)
        self.image_loader.failed.connect(lambda _t, message: self._show_unreadable(self.current, message))

    # --- opening ------------------------------------------------------------------------------------

    def open_path(self, path: str | Path) -> None:
        """Open a folder of images, or a COCO / panoptic / labelme dataset (its annotations shown)."""
        from segview.io.images import is_image_file

        path = Path(path)
        from segview.ui.dialogs.unsaved_prompt import may_drop_unsaved

        if not may_drop_unsaved(self, self.project_link.unsaved_steps, f"Open {path.name}", self.open_export_dialog):
            return
        exported = _exported_dataset(path) if path.is_dir() else None
        if exported is not None:  # a segview export: open what it describes, not its masks as images
            self.statusBar().showMessage(f"{path.name} is a segview export: opened {exported.name}.", 15000)
            path = exported
        try:
            if path.is_dir() and not _looks_like_dataset(path):
                from segview.io.folder_images import collect_images

                skipped = Report()
                _root, files = collect_images([path], skipped)
                entries = [ImageEntry(f) for f in files]
                categories, message = self.project_link.open(path, entries)
                message = " ".join([*(issue.message for issue in skipped.issues), message]).strip()
            elif path.is_file() and is_image_file(path):
                QMessageBox.warning(self, "Cannot open", f"{path.name} is an image, not a dataset. To see it, "
                                    f"open its folder with File → Open Folder… ({path.parent}).")
                return
            else:  # a dataset gets a project too; a bad file keeps the open folder's project open
                from segview.ui.dataset_open import open_dataset

                entries, categories, message = open_dataset(path, self.project_link)
            self._set_entries(entries, categories, self.project_link.last_edited(entries) or 0)
            if message:
                self.statusBar().showMessage(message, 30000)
            if self.project_link.read_only:  # said before the first edit
                self._notify_read_only(path, message)
        except SegviewError as exc:
            QMessageBox.warning(self, "Cannot open", str(exc))
            return
        self._remember_recent(path)
        self.setWindowTitle(f"segview — {path.name}" + (" (read-only)" if self.project_link.read_only else ""))
        self.read_only_banner.setVisible(self.project_link.read_only)  # stays while this folder is shown
        if not self.project_link.read_only and self.read_only_notice is not None:
            self.read_only_notice.close()

    def _notify_read_only(self, folder: Path, message: str) -> None:
        """Say once, in a box that does not block the window, that edits in this folder are not saved."""
        if self.read_only_notice is not None:
            self.read_only_notice.close()
            self.read_only_notice.deleteLater()
        box = QMessageBox(QMessageBox.Icon.Information, "Opened read-only",
                          f"{folder.name} is open read-only: edits made here are not saved.\n\n{message}",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("read-only-notice")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.show()
        self.read_only_notice = box

    def _set_entries(self, entries: list[ImageEntry], categories: CategorySet, shown: int = 0) -> None:
        self.bridge.cancel_all()
        self.workspace = Workspace(entries, categories, params=self.model_panel.params())
        self.classes_panel.set_categories(categories)
        self.current = None
        self.editor.clear()
        self.browser.set_images([e.path for e in entries], [e.status for e in entries])
        if entries:
            self.browser.select(shown)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
        if folder:
            self.open_path(folder)

    def _ask_dataset(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a COCO or panoptic dataset", "", "JSON (*.json)")
        if name:
            self.open_path(name)

    # --- showing an image ---------------------------------------------------------------------------

    def show_image(self, index: int) -> None:
        """Show image ``index``: its pixels, its layers, and ask the model about it and its neighbours."""
        if not 0 <= index < len(self.workspace.entries):
            return
        entry = self.workspace.entries[index]
        try:
            opened = self.image_loader.open(entry.path)  # a big JPEG: a preview now, the full image soon
        except SegviewError as exc:
            self._show_unreadable(index, str(exc))
            return
        if self._image_error is not None:  # the previous image's error must not seem to be this one's
            if self.statusBar().currentMessage() == self._image_error:
                self.statusBar().clearMessage()
            self._image_error = None
        self.current = index
        self._opened_annotated = entry.annotation is not None
        self._image = opened.image if opened.complete else None
        self.canvas.set_image(opened.image)
        if self.compare is not None:
            self.compare.set_image(opened.image)
        self.refresh_layers()
        self.project_link.restore_history(entry, self.editor.stacks)  # undo reaches into earlier sessions
        if opened.complete:
            self.editor.set_image(index, entry, self._image)
        else:
            self.editor.detach()  # edits wait for the full image
            self.statusBar().showMessage(f"Loading {entry.path.name} at full resolution…", 10000)
        self.editor.history_view.setEmptyLabel(self.project_link.history_origin(entry))
        if entry.prediction is None:
            self.bridge.request(entry.path, Priority.VISIBLE)
        self._prefetch_neighbours(index)

    def _show_unreadable(self, index: int, message: str) -> None:
        """Image ``index`` cannot be read: say why, show nothing to edit, still prefetch its neighbours."""
        self._image = None
        self.current = None  # nothing on screen to edit: edits must not reach the previous image
        self._image_error = message
        self.statusBar().showMessage(self._image_error, 10000)
        self.canvas.set_image(None)
        self.editor.detach()
        self.refresh_layers()
        if self.compare is not None:
            self.compare.set_image(None)
        self._prefetch_neighbours(index)  # the model loads and the next images get ready all the same

    def _full_image_ready(self, ticket: int, rgb: np.ndarray) -> None:
        """The full decode of the image on screen replaces its preview; editing starts."""
        entry = self.current_entry()
        if entry is None or not self.image_loader.is_current(ticket):
            return
        self._image = rgb
        self.canvas.set_image(rgb)
        if self.compare is not None:
            self.compare.set_image(rgb)
        self.editor.set_image(self.current, entry, rgb)
        if self.statusBar().currentMessage().startswith("Loading "):
            self.statusBar().clearMessage()

    def _prefetch_neighbours(self, index: int) -> None:
        for neighbour in self.workspace.neighbours(index):
            if self.workspace.entries[neighbour].prediction is None:
                self.bridge.request(self.workspace.entries[neighbour].path, Priority.NEIGHBOUR)

    def current_entry(self) -> ImageEntry | None:
        return None if self.current is None else self.workspace.entries[self.current]

    def refresh_layers(self) -> None:
        """Recompute every layer's data for the current image (after a new result or new parameters)."""
        entry = self.current_entry()
        threshold = self.workspace.params.score_threshold
        for source in LayerSource:
            categories = self.workspace.model_categories if source is LayerSource.PREDICTION else self.workspace.categories
            for view in LayerView:
                name = layer_name(source, view)
                data = None if entry is None else layer_data(entry, categories, source, view, threshold)
                labels, lut = data if data is not None else (None, np.zeros((1, 4), np.uint8))
                self.canvas.layer(name, LAYER_Z[view] + (3 if source is LayerSource.ANNOTATION else 0))
                self.canvas.set_layer(name, labels, lut)
        self._refresh_boxes()
        self.refresh_legend()
        self._refresh_compare()
        self._apply_layer_styles()
        if entry is not None and entry is self.editor.entry:
            self.editor.layers_refreshed()

    def _shows_annotation(self, entry: ImageEntry | None) -> bool:
        """Whether the image is shown as annotated, so that the prediction does not stack on its
        annotation unless turned on: it was opened so, or it holds accepted predictions. A first stroke
        from scratch keeps the prediction in view, as the guide it is."""
        annotation = None if entry is None else entry.annotation
        return annotation is not None and (self._opened_annotated or any(
            segment.source is Source.MODEL for segment in annotation.segments.values()))

    def edited(self) -> None:
        """After an edit step: restyle the layers when the image has just turned annotated."""
        if self._shows_annotation(self.current_entry()) != self.layers_panel.annotated:
            self._apply_layer_styles()

    def _apply_layer_styles(self) -> None:
        mode = self.layers_panel.overlay_mode()
        hidden = self.legend.hidden
        entry = self.current_entry()
        self.layers_panel.set_annotated(self._shows_annotation(entry))
        for name, item in self.canvas.layers().items():
            opacity, fill_alpha = layer_style(mode, self.layers_panel.opacity_of(name))
            self.canvas.set_layer_style(name, mode, opacity, fill_alpha=fill_alpha)
            item.setVisible(self.layers_panel.is_visible(name))
            item.set_hidden(_hidden_labels(name, hidden, entry, self.workspace) | self.objects.hidden_labels(name))
        show_boxes = self.layers_panel.boxes.isChecked() and self.layers_panel.is_visible(
            layer_name(LayerSource.PREDICTION, LayerView.INSTANCE)
        )
        for item in self._box_items:
            item.setVisible(show_boxes)
        if self.compare is not None:
            self.compare.set_style(mode, 0.6)

    def _refresh_boxes(self) -> None:
        for item in self._box_items:
            self.canvas.scene().removeItem(item)
        self._box_items = []
        entry = self.current_entry()
        if entry is None or entry.prediction is None:
            return
        from segview.ui.canvas.boxes import detection_items

        self._box_items = detection_items(entry.prediction, self.workspace.model_categories,
                                          self.workspace.params.score_threshold)
        for item in self._box_items:
            self.canvas.scene().addItem(item)

    def refresh_legend(self) -> None:
        entry = self.current_entry()
        categories = self.workspace.categories if len(self.workspace.categories) else self.workspace.model_categories
        shares = None
        if entry is not None:
            source = entry.annotation if entry.annotation is not None else entry.fused
            shares = class_shares(source) if source is not None else None
        self.legend.set_categories(categories, shares)

    def _refresh_compare(self) -> None:
        if self.compare is None or self.current is None:
            return
        from segview.ui.compare.controller import fill_compare

        fill_compare(self.compare, self.current_entry(), self.workspace)

    # --- inference ---------------------------------------------------------------------------------

    def set_model(self, name: str) -> None:
        """Use another model: old results are kept as the reference for model-vs-model diffs."""
        previous = self.bridge.model_name
        self.bridge.set_model(name)
        self._model_error = None
        self.settings.setValue("model", name)
        self.workspace.clear_predictions(keep_as_reference=previous or "")
        self._set_batch(0, 0)
        self.device_label.setText(f"Loading {name}…")
        for index, entry in enumerate(self.workspace.entries):
            self.browser.set_status(index, entry.status)
        shown = self.current if self.current is not None else self.browser.current_index()
        if shown is not None and 0 <= shown < len(self.workspace.entries):
            self.show_image(shown)  # an unreadable image still gets its neighbours predicted

    def _prediction_ready(self, path, generation: int, prediction, categories: CategorySet) -> None:
        if generation != self.bridge.generation:
            return
        index = self.workspace.index_of(path)
        if index is None:
            return
        self.workspace.set_prediction(index, prediction, categories)
        self.device_label.setText(f"{self.bridge.model_name} on {prediction.device}")
        self.browser.set_status(index, self.workspace.entries[index].status)
        if self._batch_total:
            self._set_batch(self._batch_done + 1, self._batch_total)
        if index == self.current:
            self.refresh_layers()

    def _prediction_failed(self, path, message: str) -> None:
        entry = self.current_entry()
        prefetch = path is not None and not self._batch_total and (entry is None or entry.path != path)
        if message != self._model_error and not prefetch:  # a neighbour's failure shows when it is visited
            name = Path(path).name if path is not None else "model"
            self.statusBar().showMessage(f"{name}: {message}", 15000)
        if self._batch_total:
            self._set_batch(self._batch_done + 1, self._batch_total)

    def _model_failed(self, name: str, message: str) -> None:
        if name != self.bridge.model_name:
            return
        self._model_error = message
        self.device_label.setText(f"{name}: failed to load")
        self.model_panel.device.setText("device: failed to load")
        self._model_error_shown = f"Model {name} cannot be used: {message} Choose another model."
        self.statusBar().showMessage(self._model_error_shown)

    def _model_loaded(self, name: str, device: str) -> None:
        self.device_label.setText(f"{name} on {device}")
        self.model_panel.device.setText(f"device: {device}")
        if self._model_error_shown is not None and self.statusBar().currentMessage() == self._model_error_shown:
            self.statusBar().clearMessage()  # a model works now: the failure of another is history
        self._model_error_shown = None

    def _params_changed(self, params) -> None:
        self.workspace.set_params(
            score_threshold=params.score_threshold,
            overlap_threshold=params.overlap_threshold,
            stuff_area_limit=params.stuff_area_limit,
        )
        self.refresh_layers()

    def _run_current(self) -> None:
        entry = self.current_entry()
        if entry is not None:
            self.bridge.request(entry.path, Priority.VISIBLE)

    def _run_all(self) -> None:
        todo = [e for e in self.workspace.entries if e.prediction is None]
        for entry in todo:
            self.bridge.request(entry.path, Priority.BATCH)
        self._set_batch(0, len(todo))

    def _set_batch(self, done: int, total: int) -> None:
        """Batch progress; the batch is over when done reaches total. Cancel (Esc) works only while it
        runs: otherwise Escape goes to the tool or the selection."""
        running = total > 0 and done < total
        self._batch_done, self._batch_total = (done, total) if running else (0, 0)
        self.model_panel.set_batch(done, total)
        self.actions_.cancel.setEnabled(running)

    def _cancel_batch(self) -> None:
        if not self._batch_total:  # nothing to cancel: the prefetch of the neighbours goes on
            return
        self.bridge.cancel_all()
        self._set_batch(0, 0)
        self.statusBar().showMessage("Batch cancelled", 5000)
        entry = self.current_entry()
        if entry is not None and entry.prediction is None:  # the image on screen still gets its result
            self.bridge.request(entry.path, Priority.VISIBLE)

    # --- hover, compare ------------------------------------------------------------------------------

    def _hovered(self, x: int, y: int) -> None:
        entry = self.current_entry()
        if entry is None or x < 0:
            self.hover_label.setText("")
            return
        threshold = self.workspace.params.score_threshold
        # The model's results are named by the model's classes, the annotation by the project's (renamed
        # in the Classes dock): describe each with its own categories.
        predicted = SimpleNamespace(prediction=entry.prediction, fused=entry.fused, annotation=None)
        text = describe_pixel(predicted, self.workspace.model_categories, x, y, threshold)
        if entry.annotation is not None:
            annotated = SimpleNamespace(prediction=None, fused=None, annotation=entry.annotation)
            part = describe_pixel(annotated, self.workspace.categories, x, y, threshold)
            prefix = f"x={x} y={y}"
            text += part[len(prefix):] if part.startswith(prefix) else "   " + part
        self.hover_label.setText(text)

    def _toggle_compare(self, on: bool) -> None:
        if on and self.compare is None:
            from segview.ui.compare.controller import ComparePanel

            self.compare = ComparePanel(self.layers_panel.overlay_mode(), self.layers_panel.boxes.isChecked)
            self.compare.choice_changed.connect(self._refresh_compare)
            self.compare.view.hovered.connect(self._hovered)
            self.stack.addWidget(self.compare)
        if self.compare is not None:
            self.stack.setCurrentWidget(self.compare if on else self.canvas)
            if on and self.canvas.image_item.pyramid is not None:  # the image, or its preview
                self.compare.set_image(self.canvas.image_item.pyramid)
                self._refresh_compare()
                self.compare.fit()

    # --- classes, export -----------------------------------------------------------------------------

    def _install_navigation(self) -> None:
        """A tool bar with previous / next and the saved state; the Objects dock's hidden segments and the
        class name field (Enter gives the keys back to the canvas) wired to the window."""
        from segview.ui.navigation import SaveStatus, navigation_toolbar

        self.save_status = SaveStatus(self.project_link)
        self.editor.history_created.connect(lambda _path, history: self.save_status.watch(history))
        self.editor.refreshed.connect(self.save_status.refresh)
        self.addToolBar(navigation_toolbar(self.actions_.previous_image, self.actions_.next_image, self.save_status))
        self.objects.hidden_changed.connect(self._apply_layer_styles)
        self._docks["Objects"].visibilityChanged.connect(self.objects.set_in_sight)
        self.classes_panel.name_entered.connect(self.canvas.setFocus)

    def _install_classes_and_export(self) -> None:
        """The Classes dock edits the workspace's categories; File → Export… (Ctrl+E) opens the export."""
        self.classes_panel.categories_changed.connect(self._categories_edited)
        self.export_action = self._action("&Export…", "Ctrl+E", self.open_export_dialog)
        file_menu = self.menuBar().actions()[0].menu()
        file_menu.insertAction(self.actions_.quit, self.export_action)
        file_menu.insertSeparator(self.actions_.quit)

    def _category_in_use(self, category_id: int) -> int:
        from segview.core.category_edits import segment_counts

        return segment_counts(e.annotation for e in self.workspace.entries)[category_id]

    def _categories_edited(self, categories: CategorySet) -> None:
        self.workspace.categories = categories
        self.project_link.save_categories(categories)
        self.refresh_layers()

    def open_export_dialog(self):
        """Open the export dialog (window-modal, not blocking) over the workspace's images."""
        from segview.core.export_scope import dataset_for_scope
        from segview.ui.dialogs.export_dialog import ExportDialog

        previous = self.export_dialog
        if previous is not None and previous.is_running():
            previous.show()
            previous.raise_()
            return previous
        if previous is not None:
            previous.deleteLater()
        selected = [self.current] if self.current is not None else []
        dialog = ExportDialog(
            lambda scope, chosen: dataset_for_scope(self.workspace, scope, chosen),
            selected=selected,
            folder=str(self.settings.value("export_folder", "")),
            parent=self,
        )
        dialog.export_finished.connect(lambda _r: self.settings.setValue("export_folder", dialog.folder.text()))
        dialog.export_finished.connect(lambda _r: self.project_link.exported())
        # The scope buttons say what they export in the dialog's own words (export_dialog.SCOPE_LABELS).
        self.export_dialog = dialog
        dialog.open()
        return dialog

    # --- settings, help ------------------------------------------------------------------------------

    def _set_theme(self, theme: str) -> None:
        self.settings.setValue("theme", theme)
        apply_theme(QApplication.instance(), theme)

    def _remember_recent(self, path: Path) -> None:
        recent = [p for p in self.settings.value("recent", [], type=list) if p != str(path)]
        recent.insert(0, str(path))
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for item in self.settings.value("recent", [], type=list):
            self.recent_menu.addAction(item, lambda p=item: self.open_path(p))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = self.settings.value("windowState")
        if not (isinstance(state, QByteArray) and self.restoreState(state)):
            self._default_layout()
        self._fill_recent()

    def _default_layout(self) -> None:
        """First run: the canvas gets the room; panels used together share a tabbed dock."""
        docks = self._docks
        self.tabifyDockWidget(docks["Tools"], docks["History"])
        self.tabifyDockWidget(docks["Legend"], docks["Classes"])
        self.tabifyDockWidget(docks["Classes"], docks["Objects"])
        docks["Tools"].raise_()
        docks["Legend"].raise_()
        self.resizeDocks([docks["Images"], docks["Layers"]], [230, 290], Qt.Orientation.Horizontal)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        # Escape that no widget used (Cancel Batch is off outside a batch): a search field's text first,
        # then the tool's shape in progress or the selection.
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            field = QApplication.focusWidget()
            if isinstance(field, QLineEdit) and not field.isReadOnly() and field.text():
                field.clear()
                event.accept()
                return
            if self.editor.escape():
                event.accept()
                return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        from segview.ui.dialogs.unsaved_prompt import may_drop_unsaved

        if not may_drop_unsaved(self, self.project_link.unsaved_steps, "Quit", self.open_export_dialog):
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.bridge.shutdown(wait=False)  # the thread ends after its request; app.run joins it
        self.project_link.close()
        super().closeEvent(event)

    def _show_shortcuts(self) -> None:
        rows = set()
        for action in self.findChildren(QAction):
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            if keys and action.text():
                rows.add(f"<tr><td>{action.text().replace('&', '')}</td><td><b>{keys}</b></td></tr>")
        gestures = "".join(f"<tr><td>{what}</td><td><b>{how}</b></td></tr>" for what, how in CANVAS_GESTURES)
        QMessageBox.information(self, "Keyboard shortcuts", "<table>" + "".join(sorted(rows)) + "</table>"
                                "<p><b>On the canvas</b></p><table>" + gestures + "</table>")

    def _about(self) -> None:
        from segview import __version__

        QMessageBox.about(self, "About segview", f"<b>segview {__version__}</b><br>See, compare, correct and "
                                                 "export semantic, instance and panoptic segmentations.")


CANVAS_GESTURES = (
    ("Zoom at the cursor", "Wheel"),
    ("Pan", "Space + drag, middle drag, or the Pan tool (H)"),
    ("Pick class 1–9 (with an editing tool)", "1 … 9"),
    ("Polygon: close / remove the last vertex", "Enter or double-click / Backspace"),
    ("Polygon: cut a hole in the selected segment", "Ctrl on the first vertex"),
    ("Brush and eraser size", "[ and ]"),
    ("Outline tool: insert / delete a vertex", "double-click an edge / Alt-click"),
    ("Drop the shape in progress, then the selection", "Esc"),
)


def _exported_dataset(folder: Path) -> Path | None:
    """The richest dataset of a segview export folder (panoptic, else instances, else semantic PNG)."""
    from segview.io.manifest import read_export_manifest

    if read_export_manifest(folder) is None:
        return None
    for name in ("panoptic.json", "instances.json", "semantic"):
        if (folder / name).exists():
            return folder / name
    return None


def _looks_like_dataset(folder: Path) -> bool:
    from segview.io.detect import detect_format

    try:
        detect_format(folder)
    except SegviewError:
        return False
    return True


def _hidden_labels(name: str, hidden: set[int], entry: ImageEntry | None, workspace: Workspace) -> set[int]:
    """Label values of a layer that belong to classes hidden in the legend."""
    if not hidden or entry is None:
        return set()
    source, view = name.split(".")
    if view == LayerView.SEMANTIC.value:
        return set(hidden)
    if source == LayerSource.PREDICTION.value and view == LayerView.INSTANCE.value:
        if entry.prediction is None:
            return set()
        _, _, kept = instance_map(entry.prediction, workspace.model_categories, workspace.params.score_threshold)
        return {i for i, inst in enumerate(kept, start=1) if inst.category_id in hidden}
    annotation = entry.fused if source == LayerSource.PREDICTION.value else entry.annotation
    if annotation is None:
        return set()
    return {sid for sid, s in annotation.segments.items() if s.category_id in hidden}
