"""Tests for segview.inference."""
