#!/usr/bin/env python3
"""Start-up benchmark: brick run vs unshare vs runc run, side by side in one run.

Runs /bin/true N times with each, interleaved so that machine noise hits all three
alike, and reports the median wall time, the peak RSS of the runtime process (wait4
rusage), and the ratios. Usage: bench/startup.py [--build build] [--runs 30] [--markdown]

Then the share of start-up that cgroups take (skip with --no-cgroups):
- brick, whole cgroup cost: build/bench/cgroup_bench times every cgroup step one
  `brick run` takes with its default limits (detect the layout, sweep for stale cgroups,
  validate, create, apply, place the init, remove) through the library, on this host.
- brick and runc, cost of the limits: the same bundle run with and without
  linux.resources. Both runtimes still create, join and remove a cgroup without it
  (runc also still writes its default device rules), so the difference is the cost of
  writing the limits and device rules only, not of the cgroup itself. runc gives no way
  to time its cgroup steps apart, so its whole cgroup share is not reported.
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
    spec = json.loads(subprocess.check_output([os.path.join(build, "brick"), "spec", "--stdout", "--embedded-rootfs"]))
    spec["process"]["args"] = ["/bin/true"]
    spec["ociVersion"] = "1.0.2"
    # runc 1.1 knows no time namespace; everything else carries over unchanged.
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "time"]
    # runc 1.1 refuses linux.seccomp.flags; brick's TSYNC changes nothing for a single-threaded init.
    spec["linux"].get("seccomp", {}).pop("flags", None)
    spec.get("annotations", {}).pop("run.brick.userns", None)
    spec["linux"]["cgroupsPath"] = "/brick-bench/runc"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def without_resources(bundle, workdir, name):
    """A copy of a bundle's config without linux.resources (the rootfs path is absolute)."""
    out = os.path.join(workdir, name)
    os.makedirs(out)
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["linux"].pop("resources", None)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(spec, f)
    return out


def brick_bundle(build, workdir):
    """brick's default config as a bundle, running /bin/true."""
    bundle = os.path.join(workdir, "brick-bundle")
    os.makedirs(bundle)
    spec = json.loads(subprocess.check_output([os.path.join(build, "brick"), "spec", "--stdout", "--embedded-rootfs"]))
    spec["process"]["args"] = ["/bin/true"]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def cgroup_bench(build):
    """Milliseconds per iteration of each cgroup_bench benchmark, by name."""
    exe = os.path.join(build, "bench", "cgroup_bench")
    out = subprocess.run([exe, "--benchmark_format=json", "--benchmark_min_time=0.3"],
                         capture_output=True, text=True, check=True).stdout
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    return {b["name"]: b["real_time"] * scale[b["time_unit"]]
            for b in json.loads(out)["benchmarks"]}


def report_cgroups(samples, build, markdown):
    """The share of start-up time that cgroups take, brick next to runc."""
    med = {name: statistics.median(v) * 1000 for name, v in samples.items()}
    brick_ms = med["brick run (all defaults)"]
    lib = cgroup_bench(build)
    per_run = lib["BM_CgroupPerRun"]
    lines = [
        ("brick: every cgroup step of one run (library, default limits)",
         f"{per_run:.2f} ms of {brick_ms:.2f} ms", per_run / brick_ms),
    ]
    parts = (f"detect layout {lib['BM_DetectLayout']:.3f} ms, stale sweep "
             f"{lib['BM_CleanupStaleSweep']:.3f} ms, create+remove "
             f"{lib['BM_CreateDestroy']:.3f} ms, apply defaults {lib['BM_ApplyDefaults']:.3f} ms")
    for runtime in ("brick", "runc"):
        with_name = (f"{runtime} run --bundle (with linux.resources)" if runtime == "brick"
                     else "runc run (equivalent bundle)")
        without_name = f"{runtime} run --bundle (without linux.resources)"
        if without_name not in med:
            continue
        delta = med[with_name] - med[without_name]
        lines.append((f"{runtime}: writing the limits (with - without linux.resources)",
                      f"{delta:.2f} ms of {med[with_name]:.2f} ms", delta / med[with_name]))
    if markdown:
        print()
        print("| cgroup cost | time | share of start-up |")
        print("|---|---|---|")
        for what, t, share in lines:
            print(f"| {what} | {t} | {share * 100:.1f}% |")
        print(f"\nbrick's steps: {parts}")
    else:
        print()
        for what, t, share in lines:
            print(f"{what:66s} {t:24s} {share * 100:5.1f}%")
        print(f"  brick's steps: {parts}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--no-cgroups", action="store_true",
                    help="skip the cgroup share of start-up")
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
        extra = {}  # measured alongside, reported in the cgroup section only
        if not args.no_cgroups:
            bb = brick_bundle(build, workdir)
            extra["brick run --bundle (with linux.resources)"] = [
                brick, "run", "--bundle", bb]
            extra["brick run --bundle (without linux.resources)"] = [
                brick, "run", "--bundle", without_resources(bb, workdir, "brick-bundle-nores")]
            if "runc run (equivalent bundle)" in commands:
                # "with" is the runc row of the table above.
                extra["runc run --bundle (without linux.resources)"] = [
                    "runc", "--root", runc_root, "run", "--bundle",
                    without_resources(bundle, workdir, "runc-bundle-nores"), "bench"]
        samples = {name: [] for name in list(commands) + list(extra)}
        rss = {name: [] for name in samples}
        for name, cmd in list(commands.items()) + list(extra.items()):  # warm caches once
            measure(cmd)
        for _ in range(args.runs):
            for name, cmd in list(commands.items()) + list(extra.items()):
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
        if not args.no_cgroups:
            report_cgroups(samples, build, args.markdown)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        # runc removes its container's cgroup but not the parent the bundle named.
        # brick's bundle runs use brick/<id>, which brick removes itself.
        for hierarchy in os.listdir("/sys/fs/cgroup"):
            try:
                os.rmdir(os.path.join("/sys/fs/cgroup", hierarchy, "brick-bench"))
            except OSError:
                pass


def med_ratio(samples, name):
    return statistics.median(samples[name]) / statistics.median(samples["brick run (all defaults)"])


if __name__ == "__main__":
    sys.exit(main())
