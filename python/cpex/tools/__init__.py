"""Plugin tooling: the ``cpex`` / ``mcpplugins`` command line, the plugin catalog and installer.

Nothing here is imported by ``cpex.framework``: the CLI's third-party dependencies
(typer, cookiecutter, PyGithub, httpx2, inquirer) come with the optional extra
``cpex[cli]`` and are only needed once a tool module is imported.
"""

CLI_EXTRA_HINT = "pip install 'cpex[cli]'"


def missing_extra(module: str, purpose: str) -> ImportError:
    """The error raised when a CLI dependency is absent: it names the package and the extra."""
    return ImportError(f"{module} is required for {purpose} but is not installed; install the CLI extra: {CLI_EXTRA_HINT}")
