"""The Python half of a hook run (docs/protocol.md), split by concern under ``_engine``:

- ``wire``: the only caller of the native extension, and the typed documents;
- ``payload``: the JSON codec and the payload JSON Go plugins read;
- ``refs``: plugin registrations and the facts of a call;
- ``executor``: an executor's core handle, options and plan cache;
- ``run``: one hook run, carrying out the core's steps;
- ``invoke``: awaiting one plugin hook;
- ``results``: results, records, context snapshots and the manager module's errors.

Python drives, Go decides: nothing here holds a rule of the executor. This module keeps
the names other modules (and tests, benchmarks) import from it.
"""

from cpex.framework._engine.executor import CoreExecutor, _RuntimeDisabledView  # noqa: F401
from cpex.framework._engine.invoke import _Call, _Finished, _Resumed, go_invoke_timeout  # noqa: F401
from cpex.framework._engine.payload import (  # noqa: F401
    PayloadEncodeError,
    _dumps,
    _escaped_dumps,
    _isolated_copy,
    _loads,
    payload_json,
)
from cpex.framework._engine.refs import config_key_names, core_ref_id, user_fact  # noqa: F401
from cpex.framework._engine.results import (  # noqa: F401
    PayloadSizeError,
    PluginTimeoutError,
    _construct,
    _records,
    empty_chain_result,
)
from cpex.framework._engine.run import _Run  # noqa: F401
