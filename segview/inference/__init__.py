"""Inference: model cards, weights, predictors. Imports torch lazily and never imports Qt."""
