"""Errors and warnings a user can cause. Each message says what went wrong and what to do."""

from __future__ import annotations


class SegviewError(Exception):
    """Base of every error caused by user input; the CLI prints it without a traceback."""


class FormatError(SegviewError):
    """A dataset file (COCO, panoptic, labelme, ...) is malformed or inconsistent."""


class ImageReadError(SegviewError):
    """An image file is missing, truncated, corrupt, too large or of an unsupported kind."""


class WriteError(SegviewError):
    """An output could not be written (disk full, permission denied, ...); nothing was half-written."""


class SegviewWarning(UserWarning):
    """A warning from segview itself (tests turn these into errors)."""


class ProjectError(SegviewError):
    """A project folder or its database cannot be opened, read or written."""


class ProjectReadOnlyError(ProjectError):
    """The project folder (or its database) cannot be written: a read-only install, a locked-down share."""


class ProjectLockedError(ProjectError):
    """The project is already open in another segview window (or process)."""
