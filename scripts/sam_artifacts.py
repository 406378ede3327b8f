"""What `sam build` makes of template.yaml, for scripts/test.

  sam_artifacts.py binaries     the --bin flags of every function's binary, for one cargo build
  sam_artifacts.py check DIR    each function's bootstrap in DIR (sam build's --build-dir) exists,
                                is an arm64 ELF and is under 8 MB; prints the sizes"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lambda"))
from template_functions import FUNCTIONS, binary_of  # noqa: E402

LIMIT = 8 * 1024 * 1024
ELF_MACHINE_AARCH64 = 183


def binaries():
    print(" ".join(f"--bin {binary_of(f)}" for f in FUNCTIONS))


def check(directory):
    problems = []
    for logical_id in FUNCTIONS:
        path = os.path.join(directory, logical_id, "bootstrap")
        if not os.path.isfile(path):
            problems.append(f"{logical_id}: no {path}")
            continue
        with open(path, "rb") as artifact:
            header = artifact.read(20)
        machine = int.from_bytes(header[18:20], "little")
        size = os.path.getsize(path)
        print(f"{binary_of(logical_id):<24} {size / 1e6:5.2f} MB")
        if header[:4] != b"\x7fELF" or machine != ELF_MACHINE_AARCH64:
            problems.append(f"{logical_id}: not an arm64 ELF (machine {machine})")
        if size >= LIMIT:
            problems.append(f"{logical_id}: {size} bytes, over 8 MB")
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    {"binaries": lambda: binaries(), "check": lambda: check(sys.argv[2])}[sys.argv[1]]()
