"""The images of a batch prediction: local files and folders, or fsspec URLs (s3://, gs://, file://...).

An image is named by its path relative to the images' common root (the ``file_name`` of the outputs) and
read from its *source*: a local path, or a URL read through fsspec (the filesystem's package, e.g. s3fs,
must be installed where the image is read).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from segview.core.report import Report
from segview.errors import SegviewError
from segview.io.folder_images import collect_images
from segview.io.images import IMAGE_SUFFIXES, read_image


@dataclass(frozen=True)
class ImageList:
    """The images to predict, in order: ``names[i]`` is read from ``sources[i]``; ``root`` is their folder."""

    root: str
    names: list[str]
    sources: list[str]


def is_url(path: str | os.PathLike) -> bool:
    """Whether a path names a file through a protocol (``s3://bucket/key``) rather than the local disk."""
    return "://" in str(path)


def list_images(paths: Iterable[str | os.PathLike], report: Report) -> ImageList:
    """Image files named directly or found in folders (recursively, sorted): local paths (see
    :func:`segview.io.folder_images.collect_images`) or fsspec URLs, not both."""
    paths = [str(p) for p in paths]
    urls = [p for p in paths if is_url(p)]
    if not urls:
        root, files = collect_images(paths, report)
        return ImageList(str(root), [f.relative_to(root).as_posix() for f in files], [str(f) for f in files])
    if len(urls) != len(paths):
        raise SegviewError("Give either local paths or URLs (s3://..., gs://...), not both in one run.")
    found: list[str] = []
    for url in urls:
        fs, path, protocol = _filesystem(url)
        if fs.isdir(path):
            found.extend(_unstrip(protocol, p) for p in sorted(fs.find(path))
                         if p.lower().endswith(IMAGE_SUFFIXES))
        elif fs.isfile(path):
            found.append(url)
        else:
            raise SegviewError(f"{url} does not exist. Give image files or folders of images.")
    if not found:
        raise SegviewError(f"No images found under {', '.join(urls)}.")
    root = posixpath.commonpath([posixpath.dirname(u.split("://", 1)[1]) for u in found])
    protocol = found[0].split("://", 1)[0]
    names = [u.split("://", 1)[1][len(root):].lstrip("/") for u in found]
    return ImageList(f"{protocol}://{root}", names, found)


def read_source(source: str, name: str) -> np.ndarray:
    """Decode one image (a local path or a URL) to (h, w, 3) uint8 RGB; a SegviewError when it cannot be."""
    if not is_url(source):
        return read_image(source, name=name)
    try:
        import fsspec

        with fsspec.open(source, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError) as exc:
        raise SegviewError(f"{source} cannot be read: {exc}") from exc
    return read_image(data, name=name)


def _filesystem(url: str):
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise SegviewError("URLs need fsspec: pip install 'segview[cluster]'.") from None
    try:
        fs, path = url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise SegviewError(f"{url}: no filesystem for it ({exc}). Install its fsspec package (s3fs, gcsfs...).") from exc
    return fs, path, url.split("://", 1)[0]


def _unstrip(protocol: str, path: str) -> str:
    """A path fsspec listed, as a URL again."""
    return f"{protocol}://{path}" if protocol != "file" else f"file://{path if path.startswith('/') else '/' + path}"
