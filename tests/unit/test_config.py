"""One schema: every setting reaches the serve flags, the environment, a Ray Serve config
file and the library, by enumerating the schema rather than listing settings by hand."""

from __future__ import annotations

import pytest

from rerankd.cli import build_parser
from rerankd.config import SECTIONS, Settings, env_name, flag_of, schema, value_type
from rerankd.errors import ConfigError
from rerankd.ray_serve import NOT_IN_CONFIG_FILE, config_file
from rerankd.reranker import library_config

EVERY_SETTING = [
    (section, item) for section, config_class in SECTIONS.items()
    for item in schema(config_class)
]


def sample_value(config_class, item):
    """A valid value of the field's type that is not its default."""
    base, choices, _ = value_type(config_class, item)
    if choices is not None:
        return next(choice for choice in choices if choice != item.default)
    if base is bool:
        return not item.default
    if base is int:
        return (item.default or 1) + 3
    if base is float:
        return (item.default or 1.0) + 0.5
    return f"some-{item.name}"


def as_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_serve(argv, monkeypatch, environ=None):
    for name in [env_name(item.name) for _, item in EVERY_SETTING]:
        monkeypatch.delenv(name, raising=False)
    for name, value in (environ or {}).items():
        monkeypatch.setenv(name, value)
    from rerankd.cli.serve import SECTIONS as SERVE_SECTIONS
    from rerankd.config import from_arguments

    args = build_parser().parse_args(["serve", *argv])
    return Settings.from_mapping(from_arguments(args, SERVE_SECTIONS))


def test_setting_names_are_unique_across_sections():
    names = [item.name for _, item in EVERY_SETTING]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("section", "item"), EVERY_SETTING, ids=lambda v: getattr(v, "name", v))
def test_every_setting_is_a_flag_an_environment_default_and_a_mapping_key(
    section, item, monkeypatch
):
    config_class = SECTIONS[section]
    value = sample_value(config_class, item)
    if value_type(config_class, item)[0] is bool:
        flags = [flag_of(item) if value else "--no-" + flag_of(item).removeprefix("--")]
    else:
        flags = [flag_of(item), as_text(value)]
    from_flag = parse_serve(flags, monkeypatch)
    assert getattr(getattr(from_flag, section), item.name) == value
    from_environment = parse_serve([], monkeypatch, {env_name(item.name): as_text(value)})
    assert getattr(getattr(from_environment, section), item.name) == value
    # A flag beats the environment.
    if value_type(config_class, item)[0] is not bool and item.default is not None:
        both = parse_serve(flags, monkeypatch, {env_name(item.name): as_text(item.default)})
        assert getattr(getattr(both, section), item.name) == value
    from_mapping = Settings.from_mapping({item.name: value})
    assert getattr(getattr(from_mapping, section), item.name) == value


@pytest.mark.parametrize(("section", "item"), EVERY_SETTING, ids=lambda v: getattr(v, "name", v))
def test_every_replica_setting_is_in_the_ray_serve_config_file(section, item):
    """`rerankd serve --ray-config` writes every setting a replica uses; what it writes,
    app_builder reads back (as Ray Serve hands `args` to it)."""
    import yaml

    if item.name in NOT_IN_CONFIG_FILE:
        return
    value = sample_value(SECTIONS[section], item)
    settings = Settings.from_mapping({item.name: value})
    config = yaml.safe_load(config_file(settings))
    args = config["applications"][0]["args"]
    assert args[item.name] == value
    assert getattr(getattr(Settings.from_mapping(args), section), item.name) == value


@pytest.mark.parametrize(
    "item", [*schema(SECTIONS["model"]), *schema(SECTIONS["engine"])],
    ids=lambda item: item.name,
)
def test_every_model_and_engine_setting_is_a_library_option(item):
    section = "model" if item in schema(SECTIONS["model"]) else "engine"
    value = sample_value(SECTIONS[section], item)
    model, engine = library_config("some-model", {item.name: value})
    assert getattr(model if section == "model" else engine, item.name) == value


def test_the_committed_ray_serve_config_is_the_generated_one():
    """deploy/ray-serve.yaml is `rerankd serve --ray-config` for the settings it shows."""
    from pathlib import Path

    committed = (Path(__file__).parents[2] / "deploy" / "ray-serve.yaml").read_text()
    settings = Settings.from_mapping({
        "model": "Qwen/Qwen3-Reranker-0.6B", "autoscale": "1,4",
        "cache_url": "redis://redis.internal:6379/0", "ui": True,
    })
    assert committed == config_file(settings)


@pytest.mark.parametrize(
    ("values", "environ", "message"),
    [
        ({"max_documents": 0}, {}, "max_documents must be at least 1"),
        ({"max_documents": "many"}, {}, "max_documents must be an integer"),
        ({"long_docs": "split"}, {}, "long_docs must be one of truncate, chunk"),
        ({}, {"RERANKD_MAX_DOCUMENTS": "lots"}, "RERANKD_MAX_DOCUMENTS must be an integer"),
        ({}, {"RERANKD_UI": "maybe"}, "RERANKD_UI must be true or false"),
        ({"modle": "typo"}, {}, "unknown rerankd settings: modle"),
    ],
)
def test_bad_values_are_refused_with_their_name(values, environ, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_mapping(values, environ)


def test_a_bad_environment_value_stops_the_command_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("RERANKD_MAX_DOCUMENTS", "lots")
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve"])
    assert exited.value.code == 2
    assert "RERANKD_MAX_DOCUMENTS must be an integer" in capsys.readouterr().err


def test_unknown_library_options_are_named():
    with pytest.raises(TypeError, match="unknown Reranker options: max_docs"):
        library_config("m", {"max_docs": 3})
    with pytest.raises(ValueError, match="max_length must be at least 1"):
        library_config("m", {"max_length": 0})
