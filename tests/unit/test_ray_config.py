"""The Ray Serve config-file entry point builds the application the CLI builds."""

from __future__ import annotations

import pytest

from rerankd.ray_serve import app_builder, parse_autoscale

pytest.importorskip("ray.serve", reason="Ray Serve is an optional extra: rerankd[ray]")


def test_autoscale_parsing():
    assert parse_autoscale("1,4") == (1, 4)
    assert parse_autoscale(None) is None
    for bad in ("4", "3,1", "a,b", "0,0"):
        with pytest.raises(ValueError, match="MIN"):
            parse_autoscale(bad)


def test_app_builder_takes_settings_and_scaling_from_args():
    from ray.serve import Application

    app = app_builder({"model": "embedded", "max_length": 256, "autoscale": "1,3"})
    assert isinstance(app, Application)
    with pytest.raises(ValueError, match="unknown rerankd settings: modle"):
        app_builder({"modle": "typo"})
