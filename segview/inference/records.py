"""Per-image results of a batch prediction, streamed to disk, and the datasets assembled from them at the end.

A run works in ``OUT/.segview-predict/`` (:data:`WORK_DIR`): each image's masks go to ``panoptic/`` and
``semantic/`` there as it is done, and a one-line JSON *record* (what the image's entries in the final JSON
files need, or why it was skipped) is appended to a shard under ``records/``. The final files are
assembled from the records only at the end and then moved into ``OUT`` as an export's are
(:func:`segview.io.export.publish_staged`), so an interrupted run never leaves a JSON that lists masks
not written; ``--resume`` reads the records to skip the images already done. Nothing here imports torch:
the functions run in worker processes (local engine) and Ray tasks alike.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from segview.core.categories import CategorySet
from segview.core.dataset import ImageRecord
from segview.core.fusion import FusionParams, fuse
from segview.core.prediction import Prediction
from segview.core.report import Issue, Report, Severity
from segview.errors import SegviewError, WriteError
from segview.io.atomic import atomic_open, atomic_write_bytes, atomic_write_text
from segview.io.category_json import category_json, export_categories
from segview.io.coco import encode_instances, instances_categories, instances_info
from segview.io.coco_panoptic import encode_panoptic
from segview.io.detect import DatasetFormat
from segview.io.export import LAYOUTS, publish_staged
from segview.io.image_root import image_root_info
from segview.io.manifest import manifest_job
from segview.io.mask_png import encode_png, png_name
from segview.io.semantic_png import CLASSES_JSON, CLASSES_TXT, class_map

WORK_DIR = ".segview-predict"
_JOB = "job.json"
_RECORDS = "records"


class ResumeError(SegviewError):
    """``--resume`` cannot continue the interrupted run (another model, other images, other formats)."""


@dataclass(frozen=True)
class OutputSpec:
    """What turning a prediction into a record needs: given once to every worker."""

    work_dir: Path
    categories: CategorySet
    formats: tuple[DatasetFormat, ...]
    params: FusionParams

    @property
    def semantic_dtype(self) -> str:
        return "uint8" if max((c.id for c in self.categories), default=0) <= 255 else "uint16"


def image_record(spec: OutputSpec, image_id: int, name: str, prediction: Prediction) -> dict:
    """Fuse one prediction, write its masks into the work folder and return its record (JSON-able).

    The masks are written (and fsynced) before the record exists, so a record always names masks that
    are there."""
    annotation = fuse(prediction, spec.categories, spec.params)
    record = ImageRecord(image_id, name, prediction.width, prediction.height, annotation)
    report = Report()
    mapping = {c.id: c.id for c in spec.categories}
    out: dict = {"id": image_id, "file_name": name, "width": record.width, "height": record.height}
    if DatasetFormat.COCO in spec.formats:
        things = frozenset(c.id for c in spec.categories if c.isthing)
        encoded, issues, stuff = encode_instances(record, things, mapping)
        report.extend(_prefixed(issues, DatasetFormat.COCO))
        out["coco"], out["stuff"] = encoded, stuff
    target = png_name(record)
    if DatasetFormat.COCO_PANOPTIC in spec.formats:
        issues = Report()
        png, infos = encode_panoptic(annotation, name, mapping, issues)
        atomic_write_bytes(spec.work_dir / "panoptic" / target, png)
        report.extend(_prefixed(issues, DatasetFormat.COCO_PANOPTIC))
        out["panoptic"] = infos
    if DatasetFormat.SEMANTIC_PNG in spec.formats:
        issues = Report()
        labels = class_map(annotation, mapping, spec.semantic_dtype, name, issues)
        if labels is not None:
            atomic_write_bytes(spec.work_dir / "semantic" / target, encode_png(labels))
        report.extend(_prefixed(issues, DatasetFormat.SEMANTIC_PNG))
        out["semantic"] = labels is not None
    out["issues"] = [[i.severity.value, i.message, i.image, i.item] for i in report.issues]
    return out


def skipped_record(image_id: int, name: str, reason: str) -> dict:
    """The record of an image that could not be read or predicted."""
    return {"id": image_id, "file_name": name, "skipped": reason}


def _prefixed(report: Report, fmt: DatasetFormat) -> Report:
    label = LAYOUTS[fmt].label
    return Report([Issue(i.severity, f"{label}: {i.message}", i.image, i.item) for i in report.issues])


# --- the work folder -------------------------------------------------------------------------------------


def job_fingerprint(model: str, weights: str | None, formats: Iterable[DatasetFormat], params: FusionParams,
                    names: list[str], categories: CategorySet) -> dict:
    """What a run must share with the interrupted one it resumes: model and its classes (an open-vocabulary
    model's are the ones asked for), outputs, fusion, the image list."""
    digest = hashlib.sha256("\n".join(names).encode("utf-8", "surrogatepass")).hexdigest()
    return {"model": model, "weights": weights, "classes": [[c.id, c.name, c.isthing] for c in categories],
            "formats": sorted(f.value for f in formats),
            "params": [params.score_threshold, params.overlap_threshold, params.stuff_area_limit],
            "images": len(names), "image_list_sha256": digest}


def has_interrupted_run(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds the work folder of a run that did not finish (what --resume continues)."""
    return (out_dir / WORK_DIR / _JOB).is_file()


def has_finished_run(out_dir: Path, fingerprint: dict) -> bool:
    """Whether ``out_dir`` holds the outputs of this very job, finished (its manifest keeps the fingerprint
    until another export there), and no interrupted run."""
    return not has_interrupted_run(out_dir) and manifest_job(out_dir) == fingerprint


def _job(work: Path) -> dict | None:
    try:
        return json.loads((work / _JOB).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def open_work_dir(out_dir: Path, fingerprint: dict, resume: bool) -> Path:
    """The run's work folder in ``out_dir``: the interrupted run's when resuming (refused, with
    :class:`ResumeError`, when it was another job), else a new empty one."""
    work = out_dir / WORK_DIR
    job = work / _JOB
    if resume and job.is_file():
        try:
            before = json.loads(job.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = None
        if before != fingerprint:
            differs = "another job" if not isinstance(before, dict) else ", ".join(
                k.replace("_", " ") for k in sorted(fingerprint.keys() | before.keys())
                if before.get(k) != fingerprint.get(k))
            raise ResumeError(f"The interrupted run in {work} differs from this one ({differs}), so it cannot be "
                              "resumed. Run without --resume to start over, or with the same images and options.")
        return work
    shutil.rmtree(work, ignore_errors=True)
    try:
        (work / _RECORDS).mkdir(parents=True)
        atomic_write_text(job, json.dumps(fingerprint))
    except OSError as exc:
        raise WriteError(f"Cannot write to {out_dir}: {exc.strerror or exc}. Give --out a folder you can write "
                         "to.") from exc
    return work


class RecordWriter:
    """Appends records as JSON lines to one shard of the work folder (each line flushed as written)."""

    def __init__(self, work_dir: Path, shard: str) -> None:
        self._file = open(work_dir / _RECORDS / f"{shard}.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    def write(self, record: dict) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def write_shard(work_dir: Path, shard: str, records: Iterable[dict]) -> None:
    """Write records as a shard of their own, atomically (a Ray task's output)."""
    with atomic_open(work_dir / _RECORDS / f"{shard}.jsonl", "w") as handle:
        for record in records:
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def read_records(work_dir: Path) -> Iterator[dict]:
    """Every record of the work folder once (by file name, the first wins), shards in name order; a line a
    killed run left half-written is ignored (that image was not done)."""
    seen: set[str] = set()
    for shard in sorted((work_dir / _RECORDS).glob("*.jsonl")):
        with open(shard, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # the last line of a run killed while writing it
                record = json.loads(line)
                if record["file_name"] not in seen:
                    seen.add(record["file_name"])
                    yield record


def done_names(work_dir: Path) -> set[str]:
    """The file names of the images the work folder has records of."""
    return {record["file_name"] for record in read_records(work_dir)}


# --- assembling the outputs ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a finished run wrote: the reports of reading (skipped images) and of writing, the paths."""

    reading: Report
    writing: Report
    written: list[Path]
    predicted: int
    skipped: int


def assemble(spec: OutputSpec, out_dir: Path, image_root: Path | None) -> Outcome:
    """Write the final files from the work folder's records, move them into ``out_dir`` as an export's,
    then remove the work folder."""
    work = spec.work_dir
    reading, writing = Report(), Report()
    predicted = skipped = 0
    for record in read_records(work):
        if "skipped" in record:
            skipped += 1
            reading.error(f"skipped: {record['skipped']}", image=record["file_name"])
        else:
            predicted += 1
            for severity, message, image, item in record["issues"]:
                writing.add(Severity(severity), message, image, item)
    if DatasetFormat.COCO in spec.formats:
        stuff = _write_instances(work, spec.categories, image_root)
        if stuff:
            writing.info(f"{LAYOUTS[DatasetFormat.COCO].label}: {stuff} stuff segment(s) not exported: COCO instances "
                         "holds things only (export COCO panoptic or semantic PNG for them)")
    if DatasetFormat.COCO_PANOPTIC in spec.formats:
        (work / "panoptic").mkdir(exist_ok=True)  # even empty: it replaces an earlier run's PNG folder whole
        _write_panoptic(work, spec.categories, image_root, writing)
    if DatasetFormat.SEMANTIC_PNG in spec.formats:
        _write_class_lists(work, spec.categories, writing)
    job = _job(work)
    for temporary in _leftovers(work):
        temporary.unlink(missing_ok=True)
    written = publish_staged(work, out_dir, spec.formats, image_root, job)
    labels = ", ".join(LAYOUTS[f].label for f in spec.formats)
    writing.info(f"{predicted} annotated image(s) of {predicted} exported as {labels}")
    shutil.rmtree(work, ignore_errors=True)
    return Outcome(reading, writing, written, predicted, skipped)


def _predicted(work: Path) -> Iterator[dict]:
    return (r for r in read_records(work) if "skipped" not in r)


def _write_joined(handle, texts: Iterable[str]) -> None:
    """Write texts separated by commas, one at a time (the lists of a JSON file, never whole in memory)."""
    for number, text in enumerate(texts):
        handle.write("," + text if number else text)


def _image_entry(record: dict) -> str:
    return json.dumps({k: record[k] for k in ("id", "file_name", "width", "height")}, separators=(",", ":"))


def _write_instances(work: Path, categories: CategorySet, image_root: Path | None) -> int:
    """instances.json from the records, streamed (two passes: images, then annotations); the stuff count."""
    stuff = 0
    with atomic_open(work / LAYOUTS[DatasetFormat.COCO].main, "w") as handle:
        handle.write('{"info":' + json.dumps(instances_info(image_root)) + ',"licenses":[],"images":[')
        _write_joined(handle, (_image_entry(r) for r in _predicted(work)))
        handle.write('],"categories":' + json.dumps(instances_categories(categories)) + ',"annotations":[')
        next_id = 1
        for record in _predicted(work):
            stuff += record["stuff"]
            for text in record["coco"]:
                handle.write(f'{"," if next_id > 1 else ""}{{"id":{next_id},{text[1:]}')
                next_id += 1
        handle.write("]}")
    return stuff


def _write_panoptic(work: Path, categories: CategorySet, image_root: Path | None, report: Report) -> None:
    exported = export_categories(categories, None, 0, report)
    assert exported is not None  # a model's categories are valid
    with atomic_open(work / LAYOUTS[DatasetFormat.COCO_PANOPTIC].main, "w") as handle:
        info = {"description": "exported by segview", **image_root_info(image_root)}
        handle.write('{"info":' + json.dumps(info) + ',"images":[')
        _write_joined(handle, (_image_entry(r) for r in _predicted(work)))
        handle.write('],"annotations":[')
        _write_joined(handle, (
            json.dumps({"image_id": r["id"], "file_name": png_name(ImageRecord(r["id"], r["file_name"], 1, 1)),
                        "segments_info": r["panoptic"]})
            for r in _predicted(work)))
        handle.write('],"categories":' + json.dumps([category_json(c) for c in exported[0]]) + "}")


def _write_class_lists(work: Path, categories: CategorySet, report: Report) -> None:
    exported = export_categories(categories, None, 1, report)
    assert exported is not None
    folder = work / LAYOUTS[DatasetFormat.SEMANTIC_PNG].main
    folder.mkdir(exist_ok=True)
    atomic_write_text(folder / CLASSES_JSON, json.dumps([category_json(c) for c in exported[0]], indent=1))
    atomic_write_text(folder / CLASSES_TXT, "".join(f"{c.id} {c.name}\n" for c in exported[0]))


def _leftovers(work: Path) -> list[Path]:
    """Temporary files of masks a killed run was writing (atomic writes not renamed into place)."""
    return [p for name in ("panoptic", "semantic") for p in (work / name).rglob(".*.tmp") if p.is_file()]
