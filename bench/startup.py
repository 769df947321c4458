#!/usr/bin/env python3
"""Start-up benchmark: brick run vs unshare vs runc run, side by side in one run.

Runs /bin/true N times with each, interleaved so that machine noise hits all three
alike, and reports the median wall time, the peak RSS of the runtime process (wait4
rusage), and the ratios. Usage: bench/startup.py [--build build] [--runs 30] [--markdown]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


SPAWN = None  # build/bench/spawn_stats, set in main()


def measure(cmd):
    """Wall seconds and peak RSS (KiB) of one run, measured by the static spawn_stats."""
    out = subprocess.run([SPAWN] + cmd, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, check=True).stdout.split()
    ns, rss, code = int(out[0]), int(out[1]), int(out[2])
    if code != 0:
        raise SystemExit(f"benchmark command failed with status {code}: {' '.join(cmd)}")
    return ns / 1e9, rss


def runc_bundle(build, workdir):
    """A runc bundle with the same isolation as brick's defaults, as far as runc 1.1 goes."""
    bundle = os.path.join(workdir, "runc-bundle")
    os.makedirs(bundle)
    spec = json.loads(subprocess.check_output([os.path.join(build, "brick"), "spec"]))
    spec["process"]["args"] = ["/bin/true"]
    spec["ociVersion"] = "1.0.2"
    # runc 1.1 knows no time namespace; everything else carries over unchanged.
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "time"]
    spec.get("annotations", {}).pop("run.brick.userns", None)
    spec["linux"]["cgroupsPath"] = "/brick-bench/runc"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    global SPAWN
    SPAWN = os.path.join(build, "bench", "spawn_stats")
    brick = os.path.join(build, "brick")
    workdir = tempfile.mkdtemp(prefix="brick-bench-")
    try:
        commands = {
            "brick run (all defaults)": [brick, "run", "--", "/bin/true"],
            "unshare -pmnuif --fork --mount-proc": [
                "unshare", "-pmnuif", "--fork", "--mount-proc", "/bin/true"],
        }
        if shutil.which("runc"):
            bundle = runc_bundle(build, workdir)
            runc_root = os.path.join(workdir, "runc-state")
            commands["runc run (equivalent bundle)"] = [
                "runc", "--root", runc_root, "run", "--bundle", bundle, "bench"]
        samples = {name: [] for name in commands}
        rss = {name: [] for name in commands}
        for name, cmd in commands.items():  # warm caches once
            measure(cmd)
        for _ in range(args.runs):
            for name, cmd in commands.items():
                t, m = measure(cmd)
                samples[name].append(t)
                rss[name].append(m)
        base = statistics.median(samples["unshare -pmnuif --fork --mount-proc"])
        brick_t = statistics.median(samples["brick run (all defaults)"])
        rows = []
        for name in commands:
            med = statistics.median(samples[name])
            rows.append((name, med * 1000, max(rss[name]) / 1024, med / base, brick_t / med))
        if args.markdown:
            print(f"| command ({args.runs} runs, interleaved) | median wall | peak RSS | "
                  "× unshare | brick speed-up |")
            print("|---|---|---|---|---|")
            for name, ms, mib, ratio, _ in rows:
                speed = "" if name.startswith("brick") else f"{med_ratio(samples, name):.2f}×"
                print(f"| {name} | {ms:.2f} ms | {mib:.1f} MiB | {ratio:.2f}× | {speed} |")
        else:
            for name, ms, mib, ratio, _ in rows:
                print(f"{name:40s} median {ms:8.2f} ms  peak RSS {mib:6.1f} MiB  {ratio:5.2f}x unshare")
            if "runc run (equivalent bundle)" in samples:
                print(f"brick is {med_ratio(samples, 'runc run (equivalent bundle)'):.2f}x faster than runc")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        # runc removes its container's cgroup but not the parent the bundle named.
        for hierarchy in os.listdir("/sys/fs/cgroup"):
            try:
                os.rmdir(os.path.join("/sys/fs/cgroup", hierarchy, "brick-bench"))
            except OSError:
                pass


def med_ratio(samples, name):
    return statistics.median(samples[name]) / statistics.median(samples["brick run (all defaults)"])


if __name__ == "__main__":
    sys.exit(main())
