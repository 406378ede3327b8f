"""Cold start of every function binary: from process start to its first poll of the Lambda
Runtime API (`GET .../invocation/next`), with the environment `template.yaml` gives it, next to
a hello-world `lambda_http` binary. Each function's starts alternate with hello's (RUNS of each),
so that a busy moment of the machine weighs on both medians alike, not on one function's.

Usage: scripts/cold-start (builds the binaries first), or python3 scripts/cold_start.py DIR."""

import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "lambda"))
from template_functions import FUNCTIONS, binary_of, environment  # noqa: E402

RUNS = 25
# Nothing is called before the first poll: the AWS endpoints may name a closed port.
NOWHERE = "http://127.0.0.1:9"
BASE = {
    "PATH": os.environ.get("PATH", ""),
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
}


def first_poll_ms(binary, env):
    """Milliseconds from starting `binary` to the first byte of its first Runtime API request."""
    with socket.socket() as runtime_api:
        runtime_api.bind(("127.0.0.1", 0))
        runtime_api.listen(1)
        runtime_api.settimeout(30)
        address = f"127.0.0.1:{runtime_api.getsockname()[1]}"
        started = time.perf_counter()
        process = subprocess.Popen(
            [binary],
            env={**BASE, **env, "AWS_LAMBDA_RUNTIME_API": address},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            connection, _ = runtime_api.accept()
            with connection:
                connection.recv(1)
                return (time.perf_counter() - started) * 1000
        finally:
            process.kill()
            process.wait()


def medians_ms(hello, binary, env):
    """The medians of RUNS starts of `hello` and of `binary`, taken in turn."""
    pairs = [(first_poll_ms(*hello), first_poll_ms(binary, env)) for _ in range(RUNS)]
    return tuple(statistics.median(times) for times in zip(*pairs))


def main(directory):
    hello = (os.path.join(directory, "examples", "hello"), {"AWS_LAMBDA_FUNCTION_NAME": "hello"})
    print(f"{'function':<28} {'median ms':>9} {'hello ms':>9} {'x hello':>8}")
    for logical_id in FUNCTIONS:
        env = environment(logical_id, NOWHERE) | {"AWS_LAMBDA_FUNCTION_NAME": logical_id}
        hello_ms, ms = medians_ms(hello, os.path.join(directory, binary_of(logical_id)), env)
        print(f"{binary_of(logical_id):<28} {ms:>9.1f} {hello_ms:>9.1f} {ms / hello_ms:>8.2f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/release")
