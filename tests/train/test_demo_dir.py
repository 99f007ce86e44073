"""Where `segview train-demo` writes by default: never into an installed package's folder."""

from segview.inference.cards import bundled_models_dir, user_models_dir
from segview.train import demo


def test_a_checkout_trains_the_demo_into_its_models_folder():
    assert demo.default_demo_dir() == bundled_models_dir()


def test_an_installed_segview_trains_the_demo_into_the_users_models_folder(monkeypatch):
    monkeypatch.setattr(demo, "is_installed", lambda: True)
    assert demo.default_demo_dir() == user_models_dir() != bundled_models_dir()
