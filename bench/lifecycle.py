#!/usr/bin/env python3
"""Lifecycle benchmark: brick vs runc, side by side in one run, interleaved.

(a) The engine's cycle, as conmon or the containerd shim drives it: `create`, `start`,
    wait for the container's process to exit, `delete`, for a /bin/true container, N
    rounds. This script is a child subreaper, as those callers are, so the container's
    init is re-parented to it when `create` returns and it waits for the exit with
    waitpid. Reports the median and p90 of the whole cycle and the median of each step.
(b) 100 sequential `run --bundle DIR ID` of /bin/true (the figure crun and youki publish):
    the total and the median per run.

Rounds alternate brick and runc, so machine noise hits both alike. Both runtimes run the
same config.json: brick's default hardened config (`brick spec`) less what runc 1.1
rejects (the time namespace, linux.seccomp.flags) and brick's id-range annotation, so the
user namespace mapping is the fixed one the spec names. Each runtime gets its own temp
--root and cgroup parent; everything is deleted at the end. Commands are started with
posix_spawn so the harness adds as little as it can to either side.

Usage: bench/lifecycle.py [--build build] [--rounds 50] [--runs 100] [--markdown]
"""
import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36


class Runtime:
    """One runtime binary with its own state root, bundle and stderr log."""

    def __init__(self, name, binary, root, bundle, errlog):
        self.name = name
        self.binary = binary
        self.root = root
        self.bundle = bundle
        self.errlog = errlog

    def argv(self, *args):
        return [self.binary, "--root", self.root, *args]


def spawn(argv, errlog):
    """Starts argv with /dev/null as stdin/stdout and errlog as stderr; returns the pid."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, errlog, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
    ]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)


def wait_ok(pid, argv, errlog):
    """Waits for pid and fails the benchmark, with the runtime's stderr, unless it exited 0."""
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        with open(errlog) as f:
            tail = f.read()[-2000:]
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{tail}")


def call(argv, errlog):
    wait_ok(spawn(argv, errlog), argv, errlog)


def lifecycle(rt, cid):
    """One create -> start -> wait -> delete cycle; returns the seconds each step took."""
    pid_file = os.path.join(os.path.dirname(rt.root), f"{rt.name}.pid")
    t0 = time.perf_counter()
    call(rt.argv("create", "--bundle", rt.bundle, "--pid-file", pid_file, cid), rt.errlog)
    t1 = time.perf_counter()
    with open(pid_file) as f:
        init = int(f.read().strip())
    os.unlink(pid_file)
    call(rt.argv("start", cid), rt.errlog)
    t2 = time.perf_counter()
    # The init is our child now (we are a subreaper and `create` has exited).
    _, status = os.waitpid(init, 0)
    t3 = time.perf_counter()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{rt.name}: /bin/true in container {cid} exited "
                         f"{os.waitstatus_to_exitcode(status)}")
    call(rt.argv("delete", cid), rt.errlog)
    t4 = time.perf_counter()
    return {"create": t1 - t0, "start": t2 - t1, "wait": t3 - t2, "delete": t4 - t3,
            "cycle": t4 - t0}


def run_once(rt, cid):
    t0 = time.perf_counter()
    call(rt.argv("run", "--bundle", rt.bundle, cid), rt.errlog)
    return time.perf_counter() - t0


def shared_config(brick, cgroup_parent, name):
    """brick's default config, as runc 1.1 accepts it, running /bin/true."""
    spec = json.loads(subprocess.check_output([brick, "spec", "--stdout", "--embedded-rootfs"]))
    spec["ociVersion"] = "1.0.2"
    spec["process"]["args"] = ["/bin/true"]
    # runc 1.1 knows no time namespace and refuses linux.seccomp.flags (brick's TSYNC
    # changes nothing for a single-threaded init).
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "time"]
    spec["linux"].get("seccomp", {}).pop("flags", None)
    # Without it brick uses the mapping the config names, as runc does.
    spec.get("annotations", {}).pop("run.brick.userns", None)
    spec["linux"]["cgroupsPath"] = f"{cgroup_parent}/{name}"
    return spec


def make_bundle(workdir, name, spec):
    bundle = os.path.join(workdir, f"{name}-bundle")
    os.makedirs(bundle)
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def p90(values):
    return statistics.quantiles(values, n=10)[8] if len(values) >= 2 else values[0]


def cleanup(runtimes, cgroup_parent):
    for rt in runtimes:
        try:
            out = subprocess.run(rt.argv("list", "-q"), capture_output=True, text=True).stdout
        except OSError:
            continue
        for cid in out.split():
            subprocess.run(rt.argv("delete", "--force", cid), capture_output=True)
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        base = os.path.join("/sys/fs/cgroup", hierarchy, cgroup_parent.lstrip("/"))
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, _ in os.walk(base, topdown=False):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=50, help="create-start-wait-delete cycles")
    ap.add_argument("--runs", type=int, default=100, help="sequential runs of /bin/true")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    brick = os.path.join(build, "brick")
    runc = shutil.which("runc")
    if not runc:
        raise SystemExit("runc not found: scripts/bootstrap.sh installs it")
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")

    workdir = tempfile.mkdtemp(prefix="brick-lifecycle-bench-")
    cgroup_parent = f"/brick-lifecycle-bench-{os.getpid()}"
    runtimes = []
    try:
        for name, binary in (("brick", brick), ("runc", runc)):
            spec = shared_config(brick, cgroup_parent, name)
            root = os.path.join(workdir, f"{name}-state")
            runtimes.append(Runtime(name, binary, root, make_bundle(workdir, name, spec),
                                    os.path.join(workdir, f"{name}.stderr")))
        for rt in runtimes:  # warm caches once
            lifecycle(rt, "warm-up-cycle")
            run_once(rt, "warm-up-run")

        steps = {rt.name: {k: [] for k in ("create", "start", "wait", "delete", "cycle")}
                 for rt in runtimes}
        for i in range(args.rounds):
            for rt in (runtimes if i % 2 == 0 else runtimes[::-1]):
                for k, v in lifecycle(rt, f"cycle-{i}").items():
                    steps[rt.name][k].append(v)
        runs = {rt.name: [] for rt in runtimes}
        for i in range(args.runs):
            for rt in (runtimes if i % 2 == 0 else runtimes[::-1]):
                runs[rt.name].append(run_once(rt, f"run-{i}"))
    finally:
        cleanup(runtimes, cgroup_parent)
        shutil.rmtree(workdir, ignore_errors=True)

    ms = lambda s: s * 1000
    b, r = steps["brick"], steps["runc"]
    rows = [
        (f"create → start → wait → delete, median ({args.rounds} rounds)",
         ms(statistics.median(b["cycle"])), ms(statistics.median(r["cycle"])), "ms"),
        ("create → start → wait → delete, p90",
         ms(p90(b["cycle"])), ms(p90(r["cycle"])), "ms"),
    ]
    for k in ("create", "start", "wait", "delete"):
        rows.append((f"  {k}, median", ms(statistics.median(b[k])),
                     ms(statistics.median(r[k])), "ms"))
    rows.append((f"{args.runs} sequential `run` of /bin/true, total",
                 sum(runs["brick"]), sum(runs["runc"]), "s"))
    rows.append(("  `run`, median per run", ms(statistics.median(runs["brick"])),
                 ms(statistics.median(runs["runc"])), "ms"))

    version = subprocess.run([runc, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    if args.markdown:
        print(f"| lifecycle (interleaved, same config.json; {version}) | brick | runc | runc / brick |")
        print("|---|---|---|---|")
        for what, bv, rv, unit in rows:
            print(f"| {what.strip()} | {bv:.2f} {unit} | {rv:.2f} {unit} | {rv / bv:.2f}× |")
    else:
        print(f"{'':52s} {'brick':>12s} {'runc':>12s} {'runc/brick':>11s}   ({version})")
        for what, bv, rv, unit in rows:
            print(f"{what:52s} {bv:9.2f} {unit:2s} {rv:9.2f} {unit:2s} {rv / bv:10.2f}x")


if __name__ == "__main__":
    sys.exit(main())
