"""Inference: model cards, weights, devices, predictors, the pipeline and batch prediction, the background
worker. Imports torch lazily and never imports Qt."""
