"""The flags that override settings, made from their declaration in rag.config.Settings.

A setting flag is `--<field-name>`, takes its help text, default and env var from the field,
and defaults to None ("not given": the env var or the field's default applies). A command sees
the setting flags the user gave as one dict, `overrides`, which goes to Settings.from_env:
nothing is handed on through os.environ.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click

from rag.config import MAX_SHORT_WITHHOLD, Settings, env_var, shown_default


class SettingOption(click.Option):
    """A flag that overrides the setting of the same name (see setting_option)."""


def setting_help(name: str) -> str:
    """The help of the flag for setting `name`: the field's description, default and env var."""
    text = Settings.model_fields[name].description or ""
    shown = shown_default(name)
    where = f"env {env_var(name)}" if shown == "unset" else f"default: {shown}; env {env_var(name)}"
    return f"{text[:1].upper()}{text[1:]} ({where})."


def setting_option(name: str, **click_kw: Any):
    """The flag `--<name>` for setting `name` (click_kw: type and metavar)."""
    return click.option("--" + name.replace("_", "-"), name, cls=SettingOption, default=None,
                        help=setting_help(name), **click_kw)


def takes_overrides(fn):
    """`fn` gets the setting flags that were given as one keyword argument, `overrides`."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        names = [p.name for p in click.get_current_context().command.params if isinstance(p, SettingOption)]
        given = {n: kwargs.pop(n, None) for n in names}
        overrides = {n: v for n, v in given.items() if v is not None}
        if overrides.get("llm_url") and overrides.get("llm_gguf"):
            raise click.UsageError("give --llm-url or --llm-gguf, not both")
        return fn(*args, overrides=overrides, **kwargs)
    return wrapper


def _apply(fn, options):
    for option in reversed(options):
        fn = option(fn)
    return fn


def index_dir_option(fn):
    return setting_option("index_dir", type=click.Path(file_okay=False, path_type=Path))(fn)


def chroma_option(fn):
    return setting_option("chroma_url", metavar="URL")(fn)


def embed_options(fn):
    """The embedding service, for ingest, ask, eval and serve (docs/PERFORMANCE.md#beyond-one-machine)."""
    return _apply(fn, [setting_option("embed_url", metavar="URL[,URL...]"),
                       setting_option("embed_model", metavar="NAME")])


def min_confidence_option(fn):
    # Only plumbed here: the engine decides what the confidence is and how it abstains.
    return setting_option("min_confidence", type=click.FloatRange(0, 1), metavar="X")(fn)


def short_withhold_option(fn):
    return setting_option("short_withhold", type=click.FloatRange(0, MAX_SHORT_WITHHOLD), metavar="X")(fn)


def llm_options(fn):
    """The language-model options shared by ask, eval and serve (docs/LLM.md)."""
    return _apply(fn, [
        setting_option("llm_url", metavar="URL"),
        setting_option("llm_model", metavar="NAME"),
        setting_option("llm_gguf", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path)),
        setting_option("llm_timeout", type=click.FloatRange(0.1, 3600), metavar="SECONDS"),
        setting_option("llm_context", type=click.IntRange(512, 1_000_000), metavar="TOKENS"),
    ])


def make_engine(**overrides):
    from rag.engine import Engine

    return Engine(Settings.from_env(**overrides))
