"""Inference: model cards, weights, devices, predictors, the pipeline and batch prediction, the background
worker. Imports torch lazily and never imports Qt; Triton, which torch would import with torchvision and
no model here needs, is kept out, and torch's CPU threads leave one core free (``torch_imports``)."""

from segview.inference.torch_imports import leave_a_core, without_triton

without_triton()
leave_a_core()
