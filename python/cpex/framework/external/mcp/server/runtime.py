"""Entry point of upstream's external MCP plugin server (``python -m ...runtime``).

Importable, so that deployment scripts that locate this file keep working; running it
reports that external plugin servers are not supported by cpex-go yet and exits with
status 2 (a usage error, not a crash).
"""

from __future__ import annotations

import sys

from cpex.framework.external import NOT_SUPPORTED


def main() -> int:
    """Print why the server cannot start; return the process exit status."""
    print(f"cpex external plugin server: {NOT_SUPPORTED}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
