"""Profile one scenario on one side with pyinstrument (where does a call's time go?).

    PYTHONPATH=python .venv/bin/python bench/pyinstrument_profile.py S2 --calls 5000
    .venv-upstream/bin/python bench/pyinstrument_profile.py S2 --impl upstream

Needs `pip install pyinstrument` (a profiling tool, not a dependency of `make bench`).
Prints the call tree; --html PATH writes the interactive page instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenarios as sc
from worker import Worker


async def _profile(args: argparse.Namespace) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("pyinstrument is not installed: pip install pyinstrument") from None
    worker = Worker(args.impl)
    scenario = next(s for s in sc.SCENARIOS if s.key == args.scenario or s.setup == args.scenario)
    await worker.setup(scenario.setup)
    profiler = Profiler(interval=args.interval, async_mode="enabled")
    profiler.start()
    for i in range(args.calls):
        await worker._one_call(scenario.setup, i)
    profiler.stop()
    await worker.teardown(scenario.setup)
    if args.html:
        Path(args.html).write_text(profiler.output_html())
        print(f"wrote {args.html}")
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", help="S0..S5 (S0/S5: their setup's main call)")
    p.add_argument("--impl", default="ours", choices=("ours", "upstream"))
    p.add_argument("--calls", type=int, default=3000)
    p.add_argument("--interval", type=float, default=0.0001)
    p.add_argument("--html")
    p.add_argument("--all", action="store_true", help="show every frame, library ones included")
    args = p.parse_args()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_profile(args))


if __name__ == "__main__":
    main()
