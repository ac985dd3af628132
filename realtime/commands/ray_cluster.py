"""Reaching a Ray cluster for `render --ray`, and knowing before the render that it can run our tasks.

`parse_ray_address(text)` checks `--ray`'s value (local, auto, HOST:PORT, ray://HOST:PORT; an IPv6
host in brackets) and says what is wrong with it in one line; `connect(address)` starts Ray here or
joins the cluster; `can_grant(ray, cpus, gpus)` refuses at once a task no node of a fixed cluster
(one started here) could ever run; `first_worker(ray, resources)` runs an empty task with the
render's resources and, while none runs, says every `SAY_S` what it waits for, and gives up with
one line after `GIVE_UP_S`: a cluster that scales up may take minutes, one that never will must not
leave the render at 0 % forever. Ray is imported only here and in commands/cluster.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys

from realtime.addresses import parse_address, url_host
from realtime.errors import UserError, reason
from realtime.install import pip_install
from realtime.quiet import only_our_lines

SAY_S = 30.0  # how often the wait for a first worker is reported
GIVE_UP_S = 900.0  # a cluster that adds nodes on demand takes minutes; none takes a quarter of an hour


def parse_ray_address(text: str) -> str:
    """--ray's value, checked: 'local', 'auto', 'HOST:PORT' or 'ray://HOST:PORT'."""
    if text in ("local", "auto"):
        return text
    usage = f"--ray takes local, auto, HOST:PORT or ray://HOST:PORT (an IPv6 host in brackets), got {text!r}"
    scheme, sep, rest = text.rpartition("://")
    host, _, port = rest.rpartition(":")
    if sep and scheme != "ray":
        raise UserError(f"{usage}: {scheme}:// is not a Ray address")
    if not host:
        raise UserError(f"{usage}: no host" if re.fullmatch(r"[0-9]+", port) else f"{usage}: no port")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise UserError(f"{usage}: the port must be a number 1..65535")
    try:
        parse_address(rest, "--ray")
    except UserError:
        raise UserError(f"{usage}: an IPv6 host goes in brackets, as in [::1]:6379") from None
    return text


def connect(address: str):
    try:
        import ray
    except ImportError:
        raise UserError(f"--ray needs Ray: {pip_install('cluster')}") from None
    # Chunks still in flight when one fails are cancelled and their errors dropped: the failure is said once.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    if not ray.is_initialized():  # a caller (a test, a notebook) may have connected already
        # Ray's C++ core writes straight to descriptor 2 (a refused connection: a warning a second for 20 s),
        # and Ray Client warns as well as raising: one line of ours is enough.
        # A local Ray's own processes would inherit that descriptor for the whole run: they keep their own logs.
        with only_our_lines() if address != "local" else contextlib.nullcontext():
            try:
                _check_reachable(address)
                ray.init(
                    address=address,
                    logging_level="ERROR",
                    log_to_driver=False,
                    **({"include_dashboard": False} if address == "local" else {}),
                )
            except Exception as exc:  # ConnectionError, TimeoutError, ValueError for a bad address, Ray's own
                raise UserError(
                    f"cannot reach the Ray cluster at {address}: {reason(exc, 200)}{_likely(exc)}"
                ) from None
    return ray


def _likely(exc: BaseException) -> str:
    """What to do when the refusal was the cluster's token authentication (a head started with
    RAY_AUTH_MODE=token, as `ray start --head` urges): Ray's ConnectionError says only "Failed to connect to
    Ray cluster at HOST:PORT"; the AuthenticationError behind it is in its chain."""
    while exc is not None:
        if type(exc).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(exc):
            return (
                "; the cluster asks for a token (token authentication): set RAY_AUTH_MODE=token and its token "
                "here (RAY_AUTH_TOKEN, or the file ~/.ray/auth_token copied from the head node)"
            )
        exc = exc.__cause__ or exc.__context__
    return ""


def _check_reachable(address: str) -> None:
    """A HOST:PORT head address that does not answer: Ray would retry it for minutes, so ask once."""
    import socket

    if address in ("local", "auto"):
        return
    host, port = parse_address(address.rpartition("://")[2], "--ray")
    try:
        with socket.create_connection((host, port), timeout=10):
            pass
    except OSError as exc:
        raise ConnectionError(f"{url_host(host)}:{port} does not answer ({exc.strerror or exc})") from None


def largest_node(ray) -> dict:
    """The most CPUs and GPUs any one live node has."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    return {kind: max((n.get(kind, 0.0) for n in nodes), default=0.0) for kind in ("CPU", "GPU")}


def can_grant(ray, cpus: float, gpus: float, fixed: bool) -> None:
    """Refuse, in one line, a task that no node has the CPUs or GPUs for, where the cluster is `fixed`
    (started here: it will not grow). A joined cluster may add nodes: first_worker waits for one."""
    largest = largest_node(ray)
    short = [
        f"{need:g} {kind}s per task (--{kind.lower()}s-per-task) but the largest node has {largest[kind]:g}"
        for kind, need in (("CPU", cpus), ("GPU", gpus))
        if need > largest[kind]
    ]
    if short and fixed:
        raise UserError(f"the Ray cluster can never run a chunk: {short[0]}")
    for line in short:
        print(f"note: {line}; waiting for the cluster to add such a node", file=sys.stderr, flush=True)


def _empty() -> bool:
    return True


def first_worker(ray, cpus: float, gpus: float, clock=None) -> None:
    """Wait until a task with the render's resources runs, saying what it waits for; UserError after GIVE_UP_S."""
    import time

    clock = clock or time.monotonic
    probe = ray.remote(_empty).options(num_cpus=cpus, num_gpus=gpus, max_retries=0).remote()
    started = clock()
    while not ray.wait([probe], timeout=SAY_S)[0]:
        waited = clock() - started
        wanted = f"a worker with {cpus:g} CPUs" + (f" and {gpus:g} GPUs" if gpus else "")
        if waited >= GIVE_UP_S:
            ray.cancel(probe, force=True)
            raise UserError(
                f"gave up after {waited / 60:.0f} min waiting for {wanted} on the Ray cluster "
                f"(its largest node: {largest_node(ray)}); ask for less with --cpus-per-task/--gpus-per-task"
            )
        print(f"waiting {waited:.0f} s for {wanted} on the Ray cluster", file=sys.stderr, flush=True)
    ray.get(probe)
