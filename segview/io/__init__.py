"""Dataset formats (COCO instances, COCO panoptic, semantic PNG, labelme), their detection, the export and
the project store, in layers (see pyproject's import-linter contracts). Depends on core only; no Qt, no torch."""
