"""Reading and writing the plugin config file (spec §5).

The file is rendered as a Jinja2 template first, in a *sandboxed* environment with
autoescaping on and one variable, ``env`` (the process environment), exactly as
upstream does. Two consequences are kept on purpose because configs in the field rely
on them: undefined names render as empty strings (``{{event}}`` placeholders in
webhook templates vanish), and values containing ``& < > " '`` are HTML-escaped.
The rendered text is parsed with ``yaml.safe_load`` and validated into :class:`Config`.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import yaml

from cpex.framework.models import Config

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


@functools.cache
def _jinja() -> SandboxedEnvironment:
    """The process's sandboxed environment, built on first use (importing jinja2 is not free).

    Default ``Undefined`` (unknown names render as ""), ``autoescape=True``, no loader:
    templates are compiled from the file's text on every load.
    """
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=True)


class ConfigLoader:
    """Loads the YAML config file into a :class:`Config`."""

    @staticmethod
    def load_config(config: str, use_jinja: bool = True) -> Config:
        """Read, render (unless ``use_jinja`` is false), parse and validate ``config``.

        A missing file is not an error: it yields an empty config. Template, YAML and
        validation errors propagate.
        """
        path = os.path.normpath(config)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            return Config(plugins=[], plugin_dirs=[])
        try:
            if use_jinja:
                text = _jinja().from_string(text).render(env=os.environ)
            data = yaml.safe_load(text) or {}
            if not isinstance(data, dict):
                # Upstream fails here with the TypeError of Config(**data); keep the type.
                raise TypeError(f"the config must be a YAML mapping, got {type(data).__name__}")
            return Config(**data)
        except Exception as exc:
            # The exception keeps its type and message (callers match on them); the note
            # names the file in the traceback.
            exc.add_note(f"while loading the plugin config file {path}")
            raise


class ConfigSaver:
    """Writes a :class:`Config` back as YAML."""

    @staticmethod
    def save_config(config: Config, config_path: str) -> None:
        """Write ``config`` to ``config_path``; an OS error becomes a RuntimeError naming the path."""
        text = yaml.safe_dump(config.model_dump(mode="json"), default_flow_style=False)
        try:
            with open(os.path.normpath(config_path), "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise RuntimeError(f"Error saving PluginConfig to {config_path}") from exc
