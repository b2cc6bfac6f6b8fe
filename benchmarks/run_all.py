"""Run every benchmarks/bench_*.py and print their tables (ratios, not asserted anywhere)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n## {script.name}", flush=True)
        t = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(
            f"({time.perf_counter() - t:.1f} s{'' if code == 0 else f', exit {code}'})", flush=True
        )
        failed += code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
