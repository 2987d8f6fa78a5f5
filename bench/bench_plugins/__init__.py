"""Python plugins the benchmark loads by dotted path (``kind: bench_plugins.<module>.<Class>``).

They use only the public 0.1.x plugin API, so the very same classes run on upstream cpex
0.1.4 and on ours.
"""
