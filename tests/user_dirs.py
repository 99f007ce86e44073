"""Tests keep segview's user folders inside their own tmp_path."""


def use_user_dirs(monkeypatch, tmp_path, data_dir=None):
    """Point segview's data, cache and torch-hub folders into ``tmp_path`` (the data folder at ``data_dir``
    when given) so that a test never reads or writes the real user's models."""
    monkeypatch.setenv("SEGVIEW_DATA_DIR", str(data_dir or tmp_path / "data"))
    monkeypatch.setenv("SEGVIEW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
