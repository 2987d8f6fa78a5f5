"""The Python half of the executor: what needs Python objects, driven by the Go core.

``wire`` is the only module that calls the native extension (docs/protocol.md). A hook
call goes ``executor`` (plan, facts) → ``run`` (the core's steps) → ``invoke`` (one
plugin) → ``results``; ``refs`` and ``payload`` are what crosses. ``cpex.framework._driver``
re-exports the names the manager module uses.
"""
