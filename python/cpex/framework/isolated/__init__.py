"""Isolated-venv plugins (``kind: isolated_venv``).

The host is Go (``core/external/isolated``): it creates and caches the plugin's
virtualenv, starts the worker installed in it and speaks NDJSON protocol v1 with it.
``client.IsolatedVenvPlugin`` gives that Go plugin the shape of a ``Plugin``;
``worker`` is the worker this package ships for venvs that install it.
"""
