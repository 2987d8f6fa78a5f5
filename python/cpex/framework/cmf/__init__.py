"""CMF: the provider-neutral message model shared by users, agents, tools and LLMs.

``message`` holds the wire models (every one frozen: change them with ``model_copy``);
``view`` decomposes a message into per-part ``MessageView`` objects for policy code.
The package itself re-exports nothing, as upstream's does not.
"""
