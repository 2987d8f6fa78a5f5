"""Hook types, their payload/result models and the process-wide hook registry (spec §16).

Each module registers its hook types in the global ``HookRegistry`` when imported.
``cpex.framework`` imports tools, prompts, resources, agents and http (12 hook types);
``identity`` registers its two only when something imports it.
"""
