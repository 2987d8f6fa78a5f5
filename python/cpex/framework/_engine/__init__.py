"""The Python half of the executor: what needs Python objects, driven by the Go core.

``wire`` is the only module that calls the native extension (docs/protocol.md); the
driver (``cpex.framework._driver``) carries out the core's steps through it.
"""
