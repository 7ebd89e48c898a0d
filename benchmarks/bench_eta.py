"""How honest the CLI's ETA is: index a folder with `--progress json`, stamp each progress line as it
arrives, and compare every ETA given after the first minute with the time that really remained.

    python benchmarks/bench_eta.py FOLDER DATA_DIR [TIMELINE.jsonl]   # DATA_DIR: a new, empty index

TIMELINE.jsonl, if given, receives every progress line with its time stamp (`t`), for a closer look.

Prints the median, p90 and largest relative error, the share of ETAs within 25%, and a few samples.
A shared machine's load changes the real rate: run it on a quiet machine, on a folder that takes
several minutes (e.g. the Python docs of devsets/debian-docs/README.md: ~19,000 passages).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time


def main(folder: str, data_dir: str, save: str | None = None) -> None:
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "librarian.engine.cli", "--data-dir", data_dir, "index",
                                "--progress", "json", folder], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True)
    assert process.stderr is not None
    stamped: list[tuple[float, float | None]] = []
    with open(save, "w", encoding="utf-8") if save else contextlib.nullcontext() as timeline:
        for line in process.stderr:
            try:
                progress = json.loads(line)
            except ValueError:
                continue
            stamped.append((time.monotonic() - start, progress.get("eta_s")))
            if timeline is not None:
                timeline.write(json.dumps({"t": stamped[-1][0], **progress}) + "\n")
    process.wait()
    end = time.monotonic() - start
    given = [(t, eta, end - t) for t, eta in stamped if t >= 60 and eta is not None and end - t > 5]
    print(f"run {end:.0f} s, {len(stamped)} progress lines, {len(given)} ETAs after the first minute")
    if not given:
        return
    errors = sorted(abs(eta - real) / real for _, eta, real in given)
    print(f"relative error: median {statistics.median(errors):.0%}, p90 {errors[int(0.9 * (len(errors) - 1))]:.0%}, "
          f"max {errors[-1]:.0%}; within 25%: {sum(e <= 0.25 for e in errors) / len(errors):.0%}")
    for t, eta, real in given[:: max(1, len(given) // 8)]:
        print(f"  t={t:5.0f} s  eta {eta:6.0f} s  real {real:6.0f} s")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
