"""
What bench/numpy_ref.py and bench/torch_ref.py share, with neither numpy nor torch imported: reading the
IDX files, the batches, the layer list, the timing protocol of a plan (rounds, budgets, progress lines),
the per-configuration result and the command line. Each script supplies its arrays, its network and its
environment report. Both run as `python bench/<script>.py`, so this file is on their path.

The budget of a configuration has the names of bench/budgets.ts (as tinybench reads them): warm-up (if
warmupIterations > 0, in every round or only the first) until both warmupTime ms have passed and
warmupIterations calls were made, then timed calls until both time ms have passed and iterations calls
were made; each call is timed on its own (time.perf_counter_ns).
"""
import argparse
import gzip
import json
import os
import sys
import time

MAX_BATCHES = 1024  # as the bench's batchesOf
CLASSES = 10


def read_idx_bytes(path):
    """An IDX file of unsigned bytes (raw or .gz) → (its bytes, the shape in its header, the data offset)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return raw, dims, 4 + 4 * ndim


def find_idx(data_dir, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no {name} (or {name}.gz) in {data_dir}")


def split_paths(data_dir, prefix):
    return find_idx(data_dir, f"{prefix}-images-idx3-ubyte"), find_idx(data_dir, f"{prefix}-labels-idx1-ubyte")


def batches_of(x, y, m):
    """The first min(1024, N // m) consecutive whole batches, as (X = n0×m view, labels)."""
    count = max(1, min(MAX_BATCHES, len(y) // m))
    return [(x[i * m:(i + 1) * m].T, y[i * m:(i + 1) * m]) for i in range(count)]


def parse_layers(s):
    layers = [int(v) for v in s.split(",")] if isinstance(s, str) else [int(v) for v in s]
    if len(layers) < 2 or layers[0] != 784 or layers[-1] != CLASSES or min(layers) < 1:
        raise ValueError(f"layers must run from 784 to {CLASSES}, got {layers}")
    return layers


def split_params(flat, layers, copy, source):
    """[(W_l, b_l)] out of a flat float32 array in the project's layout (W_l row-major then b_l, l = 1..L);
    copy(view) makes each its own array."""
    params, at = [], 0
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        W = copy(flat[at:at + n_out * n_in].reshape(n_out, n_in))
        at += n_out * n_in
        b = copy(flat[at:at + n_out].reshape(n_out, 1))
        at += n_out
        params.append((W, b))
    if at != len(flat):
        raise ValueError(f"{source}: {len(flat)} values, layers {layers} need {at}")
    return params


def quantile(xs, q):
    """Linear interpolation, numpy's default (and the bench's)."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo, hi = int(pos // 1), min(len(s) - 1, int(pos // 1) + 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class Timed:
    """One timed unit of work of a plan: its configuration, batches and samples. A script's subclass sets
    self.call(X, y, extra) and self.params, and may set self.extra (e.g. dropout masks) per batch."""

    def __init__(self, spec, data, label, seed, init_params):
        self.layers = parse_layers(spec["layers"])
        self.what = spec["what"]
        if self.what not in ("step", "forward", "gradients"):
            raise ValueError(f"what must be step, forward or gradients, got {self.what!r}")
        x, y = data["test"] if self.what == "forward" else data["train"]
        batch = spec["batch"]
        self.m = len(y) if batch == "full" else int(batch)
        if not 1 <= self.m <= len(y):
            raise ValueError(f"batch must be 1..{len(y)} or 'full', got {batch!r}")
        self.size = "full" if batch == "full" else str(self.m)
        self.label = label
        self.budget = spec["budget"]
        self.params = init_params(self.layers, seed)
        self.batches = batches_of(x, y, self.m)
        self.next = 0
        self.samples, self.round_medians = [], []
        self.last_loss = None
        self.id = spec.get("id") or f"{self.what} · {label} · {'-'.join(map(str, self.layers))} · {self.size}"

    def one_call(self):
        i = self.next
        self.next = (self.next + 1) % len(self.batches)
        return self.call_at(i)

    def run_round(self, first):
        b = self.budget
        now = time.perf_counter_ns
        if b.get("warmupIterations", 0) > 0 and (first or b.get("warmupEveryRound", True)):
            t0, calls = now(), 0
            while calls < b["warmupIterations"] or (now() - t0) < b.get("warmupTime", 0) * 1e6:
                self.one_call()
                calls += 1
        times = []
        t0 = now()
        while len(times) < max(1, b.get("iterations", 1)) or (now() - t0) < b.get("time", 0) * 1e6:
            t = now()
            out = self.one_call()
            times.append((now() - t) / 1e6)
        self.samples.extend(times)
        self.round_medians.append(quantile(times, 0.5))
        if self.what != "forward":
            self.last_loss = float(out)

    def result(self, with_samples, finite, **extra):
        s = self.samples
        med = quantile(s, 0.5)
        out = {
            "id": self.id, "layers": self.layers, "what": self.what, "size": self.size, "m": self.m, **extra,
            "batches": len(self.batches), "n": len(s),
            "medianMs": med, "p25Ms": quantile(s, 0.25), "p75Ms": quantile(s, 0.75),
            "perRoundMedianMs": self.round_medians,
            "samplesPerSec": self.m * 1000 / med,
            "finite": finite, "lastLoss": self.last_loss,
        }
        if with_samples:
            out["samplesMs"] = s
        return out


def run_rounds(plan, configs):
    """Every round, every configuration in plan order; progress lines on stderr if the plan asks."""
    rounds = int(plan.get("rounds", 1))
    total, done = rounds * len(configs), 0
    for r in range(rounds):
        for c in configs:
            if plan.get("progress"):
                progress = {"round": r + 1, "rounds": rounds, "id": c.id, "done": done, "total": total}
                print(json.dumps({"progress": progress}), file=sys.stderr, flush=True)
            c.run_round(first=(r == 0))
            done += 1
    return rounds


def plan_report(schema, environment, data_dir, checksum, plan_info, results, t0):
    return {
        "schema": schema, "version": 1,
        **environment,
        "data": {"dir": os.path.abspath(data_dir), **checksum},
        "plan": plan_info,
        "results": results,
        "wallSeconds": time.perf_counter() - t0,
    }


def parser(description):
    """The command line both scripts take; a script adds its own flags."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("data_dir", nargs="?", help="folder with the four MNIST IDX files")
    ap.add_argument("--layers", default="784,10,10")
    ap.add_argument("--what", default="step", choices=["step", "forward", "gradients"])
    ap.add_argument("--batch", default="64", help="samples per call, or 'full'")
    ap.add_argument("--time-ms", type=float, default=250)
    ap.add_argument("--min-calls", type=int, default=8)
    ap.add_argument("--warmup-ms", type=float, default=60)
    ap.add_argument("--warmup-calls", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--samples", action="store_true", help="also print every per-call time")
    ap.add_argument("--plan", help="a JSON plan file, or - for stdin: several configurations in one run")
    ap.add_argument("--check", action="store_true", help="gradients of one batch from files (see the header)")
    ap.add_argument("--params")
    ap.add_argument("--x")
    ap.add_argument("--y")
    ap.add_argument("--out")
    return ap


def main(ap, check, run_plan, plan_extra=None, config_extra=None):
    """Parses the command line: --check, a plan (file or stdin), or one configuration from the flags."""
    args = ap.parse_args()
    if args.check:
        if not (args.params and args.x and args.y and args.out):
            ap.error("--check needs --params, --x, --y and --out")
        check(args)
        return
    if not args.data_dir:
        ap.error("DATA_DIR is required")
    if args.plan:
        plan = json.load(sys.stdin if args.plan == "-" else open(args.plan))
    else:
        budget = {"time": args.time_ms, "iterations": args.min_calls, "warmupTime": args.warmup_ms,
                  "warmupIterations": args.warmup_calls, "warmupEveryRound": True}
        batch = "full" if args.batch == "full" else int(args.batch)
        config = {"layers": args.layers, "what": args.what, "batch": batch, "budget": budget, **(config_extra(args) if config_extra else {})}
        plan = {"rounds": args.rounds, "seed": args.seed, "lr": args.lr, "samples": args.samples,
                **(plan_extra(args) if plan_extra else {}), "configs": [config]}
    json.dump(run_plan(plan, args.data_dir), sys.stdout)
    sys.stdout.write("\n")
