"""Example Python plugins for the demo (loaded by dotted class path: plugins.<module>.<Class>)."""
