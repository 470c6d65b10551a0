#!/usr/bin/env python3
"""
The seed notebook's network in PyTorch, as a reference row beside numpy's (bench/numpy_ref.py): the same
equations, data, batches, plan, output and --check protocol, plus dropout masks and a thread count.

Everything is float32 on the CPU, with the notebook's equations written out (no autograd, no nn.Module), so
the work is exactly numpy's. For a list of layers n0 (784), n1, ..., nL (10), with X the n0×m input
(features × samples, a transposed view of the rows) and Y the 10×m one-hot labels:

    forward    Z_l = W_l·A_(l-1) + b_l     A_0 = X;  A_l = ReLU(Z_l)∘M_l for l < L;  A_L = softmax(Z_L)
    loss       mean over the batch of −log A_L[true class]   (log-softmax, so it never takes log 0)
    backward   dZ_L = A_L − Y
               dW_l = dZ_l·A_(l-1)ᵀ / m    db_l = Σ_samples dZ_l / m   (per unit)
               dZ_(l-1) = W_lᵀ·dZ_l ∘ M_(l-1) ∘ ReLU′(Z_(l-1))
    update     W_l := W_l − α·dW_l ;  b_l := b_l − α·db_l               (α = 0.1 by default)

M_l is the dropout mask of hidden layer l (n_l×m, values 0 or 1/keep_l), or all ones without dropout. The
softmax subtracts the column max. W_l is n_l×n_(l-1), b_l is n_l×1.

What is timed: as numpy_ref.py (step, gradients on the training set; forward + argmax on the test set;
call i uses rows [i·m, (i+1)·m) in file order, cycling through the first min(1024, N // m) whole batches).
A configuration with "keep" (one keep probability per hidden layer) draws 8 sets of masks before timing,
from torch's generator seeded with the plan's seed, and cycles through them with the batches, as the
TypeScript bench does; forward never drops.

Usage
    torch_ref.py DATA_DIR --layers 784,10,10 --what step --batch 64 [--keep 0.4,0.5] [--threads 1]
                 [--time-ms 250] [--min-calls 8] [--warmup-ms 60] [--warmup-calls 3] [--rounds 1]
                 [--seed 1] [--lr 0.1] [--samples]
    torch_ref.py DATA_DIR --plan FILE|-      several configurations in one process (JSON, see below)
    torch_ref.py --check --layers L --params P --x X --y Y --out OUT [--masks MASKS] [--lr 0.1]

The plan is numpy_ref.py's, with two additions: "threads" (torch.set_num_threads, default 1) at the top,
and "keep": [0.4, 0.5] in a configuration (absent or null: no dropout).
    {"rounds": 3, "seed": 1, "lr": 0.1, "threads": 1, "samples": true, "progress": false,
     "configs": [{"id": "...", "layers": [784, 400, 100, 10], "what": "step", "batch": 256,
                  "keep": [0.4, 0.5], "budget": {"timeMs": 250, "minCalls": 8, "warmupMs": 60,
                                                 "warmupCalls": 3, "warmupEveryRound": true}}, ...]}

Output: one JSON object on stdout: python and torch versions, the thread counts in effect
(torch.get_num_threads, get_num_interop_threads) with the thread environment variables, torch's parallel
and BLAS configuration, a checksum of the data read, and per configuration what numpy_ref.py gives.
Exit status 3 with {"skipped": reason} on stdout: torch is not importable.

--check (for the tests): the files of numpy_ref.py's --check, and MASKS (optional) float32: for each
hidden layer, its m×n_l mask, one sample after another (the project's layout), concatenated. Writes to
OUT, float32: the loss, the gradients in P's layout, then the weights after one SGD step with α = --lr.
Stdout: JSON with m and the dtype of every array computed.
"""
import argparse
import array
import gzip
import json
import os
import platform
import sys
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch without numpy: not needed here
try:
    import torch
except ImportError as e:
    print(json.dumps({"skipped": f"torch is not importable by {sys.executable}: {e}"}))
    sys.exit(3)

THREAD_VARS = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
MAX_BATCHES = 1024  # as the bench's batchesOf
MASK_SETS = 8  # as the bench's
CLASSES = 10
F32 = torch.float32


# ---------------------------------------------------------------------------------------------- data

def read_idx(path):
    """An IDX file of unsigned bytes (raw or .gz) → uint8 tensor of the shape in its header."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx(data_dir, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(data_dir, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"no {name} (or {name}.gz) in {data_dir}")


def load_split(data_dir, prefix):
    """(images m×784 float32 in [0, 1], one sample per row, file order; labels m int64)."""
    images = read_idx(find_idx(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find_idx(data_dir, f"{prefix}-labels-idx1-ubyte"))
    x = images.reshape(len(images), -1).to(F32) / torch.tensor(255, dtype=F32)
    return x, labels.to(torch.int64)


def batches_of(x, y, m):
    """The first min(1024, N // m) consecutive whole batches, as (X = n0×m view, labels)."""
    count = max(1, min(MAX_BATCHES, len(y) // m))
    return [(x[i * m:(i + 1) * m].T, y[i * m:(i + 1) * m]) for i in range(count)]


# ------------------------------------------------------------------------------------------- network

def init_params(layers, seed):
    """[(W_l, b_l)]: the notebook's uniform(−0.5, 0.5) for one hidden layer, He-normal for deeper nets."""
    g = torch.Generator().manual_seed(seed)
    params = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        if len(layers) == 3:
            W = torch.rand((n_out, n_in), generator=g, dtype=F32) - 0.5
            b = torch.rand((n_out, 1), generator=g, dtype=F32) - 0.5
        else:
            W = torch.randn((n_out, n_in), generator=g, dtype=F32) * (2.0 / n_in) ** 0.5
            b = torch.zeros((n_out, 1), dtype=F32)
        params.append((W, b))
    return params


def softmax(Z):
    """Column-wise softmax with the column max subtracted, and its log (for the loss)."""
    Zc = Z - Z.amax(dim=0, keepdim=True)
    E = torch.exp(Zc)
    sums = E.sum(dim=0, keepdim=True)
    return E / sums, Zc - torch.log(sums)


def forward(params, X, masks=None):
    """Z_l and A_l for every layer (A_0 = X), and log A_L. masks: one n_l×m tensor per hidden layer, or None."""
    Zs, As = [], [X]
    logA = None
    for l, (W, b) in enumerate(params):
        Z = W @ As[-1] + b
        Zs.append(Z)
        if l < len(params) - 1:
            A = torch.relu(Z)
            As.append(A * masks[l] if masks is not None else A)
        else:
            A, logA = softmax(Z)
            As.append(A)
    return Zs, As, logA


def gradients(params, X, y, masks=None):
    """(batch-mean cross-entropy, [(dW_l, db_l)]) for the n0×m batch X with labels y."""
    m = X.shape[1]
    cols = torch.arange(m)
    Zs, As, logA = forward(params, X, masks)
    loss = -logA[y, cols].mean()
    dZ = As[-1].clone()
    dZ[y, cols] -= 1  # A_L − Y
    grads = [None] * len(params)
    for l in reversed(range(len(params))):
        dW = dZ @ As[l].T / m
        db = dZ.sum(dim=1, keepdim=True) / m
        grads[l] = (dW, db)
        if l > 0:
            back = params[l][0].T @ dZ
            if masks is not None:
                back = back * masks[l - 1]
            dZ = back * (Zs[l - 1] > 0)
    return loss, grads


def sgd_update(params, grads, lr):
    for (W, b), (dW, db) in zip(params, grads):
        W -= lr * dW  # lr·dW rounded to float32, then subtracted: numpy's arithmetic
        b -= lr * db


def predict(params, X):
    _, As, _ = forward(params, X)
    return As[-1].argmax(dim=0)


def draw_masks(widths, keep, m, g):
    """One set of masks: per hidden layer an n_l×m tensor of 0 or 1/keep_l."""
    return [(torch.rand((n, m), generator=g, dtype=F32) < k).to(F32) / k for n, k in zip(widths, keep)]


# ------------------------------------------------------------------------------------ environment

def environment():
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": torch.__version__,
        "threads": {
            "intraop": torch.get_num_threads(),
            "interop": torch.get_num_interop_threads(),
            "env": {k: os.environ.get(k) for k in THREAD_VARS},
        },
        "parallel": torch.__config__.parallel_info(),
        "blas": {"mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available()},
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


# ------------------------------------------------------------------------------------------ timing

def parse_layers(s):
    layers = [int(v) for v in s.split(",")] if isinstance(s, str) else [int(v) for v in s]
    if len(layers) < 2 or layers[0] != 784 or layers[-1] != CLASSES or min(layers) < 1:
        raise ValueError(f"layers must run from 784 to {CLASSES}, got {layers}")
    return layers


def parse_keep(keep, layers):
    if keep is None:
        return None
    keep = [float(v) for v in (keep.split(",") if isinstance(keep, str) else keep)]
    if len(keep) != len(layers) - 2 or not all(0 < k <= 1 for k in keep):
        raise ValueError(f"keep must be one probability in (0, 1] per hidden layer of {layers}, got {keep}")
    return None if all(k == 1 for k in keep) else keep


class Config:
    """One timed unit of work: its weights, its batches (and masks) and its samples."""

    def __init__(self, spec, data, seed, lr):
        self.layers = parse_layers(spec["layers"])
        self.what = spec["what"]
        if self.what not in ("step", "forward", "gradients"):
            raise ValueError(f"what must be step, forward or gradients, got {self.what!r}")
        self.keep = parse_keep(spec.get("keep"), self.layers) if self.what != "forward" else None
        x, y = data["test"] if self.what == "forward" else data["train"]
        batch = spec["batch"]
        self.m = len(y) if batch == "full" else int(batch)
        if not 1 <= self.m <= len(y):
            raise ValueError(f"batch must be 1..{len(y)} or 'full', got {batch!r}")
        self.size = "full" if batch == "full" else str(self.m)
        drop = " + dropout" if self.keep else ""
        self.id = spec.get("id") or f"{self.what}{drop} · torch · {'-'.join(map(str, self.layers))} · {self.size}"
        self.budget = spec["budget"]
        self.params = init_params(self.layers, seed)
        self.batches = batches_of(x, y, self.m)
        g = torch.Generator().manual_seed(seed)
        self.mask_sets = [draw_masks(self.layers[1:-1], self.keep, self.m, g) for _ in range(MASK_SETS)] if self.keep else None
        self.next = 0
        self.samples, self.round_medians = [], []
        self.last_loss = None
        params = self.params
        if self.what == "step":
            def call(X, y, masks):
                loss, grads = gradients(params, X, y, masks)
                sgd_update(params, grads, lr)
                return loss
        elif self.what == "gradients":
            def call(X, y, masks):
                return gradients(params, X, y, masks)[0]
        else:
            def call(X, y, masks):
                return predict(params, X)
        self.call = call

    def one_call(self):
        X, y = self.batches[self.next]
        masks = self.mask_sets[self.next % MASK_SETS] if self.mask_sets else None
        self.next = (self.next + 1) % len(self.batches)
        return self.call(X, y, masks)

    def check_dtypes(self):
        X, y = self.batches[0]
        loss, grads = gradients(self.params, X, y, self.mask_sets[0] if self.mask_sets else None)
        arrays = [loss] + [a for g in grads for a in g] + [a for p in self.params for a in p]
        if not all(a.dtype == F32 for a in arrays):
            raise TypeError(f"{self.id}: not float32 throughout: {[str(a.dtype) for a in arrays]}")

    def run_round(self, first):
        b = self.budget
        now = time.perf_counter_ns
        if b.get("warmupCalls", 0) > 0 and (first or b.get("warmupEveryRound", True)):
            t0, calls = now(), 0
            while calls < b["warmupCalls"] or (now() - t0) < b.get("warmupMs", 0) * 1e6:
                self.one_call()
                calls += 1
        times = []
        t0 = now()
        while len(times) < max(1, b.get("minCalls", 1)) or (now() - t0) < b.get("timeMs", 0) * 1e6:
            t = now()
            out = self.one_call()
            times.append((now() - t) / 1e6)
        self.samples.extend(times)
        self.round_medians.append(quantile(times, 0.5))
        if self.what != "forward":
            self.last_loss = float(out)

    def result(self, with_samples):
        s = self.samples
        finite = all(bool(torch.isfinite(a).all()) for p in self.params for a in p)
        med = quantile(s, 0.5)
        out = {
            "id": self.id, "layers": self.layers, "what": self.what, "size": self.size, "m": self.m,
            "keep": self.keep, "batches": len(self.batches), "n": len(s),
            "medianMs": med, "p25Ms": quantile(s, 0.25), "p75Ms": quantile(s, 0.75),
            "perRoundMedianMs": self.round_medians,
            "samplesPerSec": self.m * 1000 / med,
            "finite": finite, "lastLoss": self.last_loss,
        }
        if with_samples:
            out["samplesMs"] = s
        return out


def quantile(xs, q):
    """Linear interpolation, numpy's default (and the bench's)."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo, hi = int(pos // 1), min(len(s) - 1, int(pos // 1) + 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def load_data(data_dir):
    return {"train": load_split(data_dir, "train"), "test": load_split(data_dir, "t10k")}


def checksum(data):
    return {k: {"m": len(y), "pixelSum": float(x.sum(dtype=torch.float64)), "labelSum": int(y.sum())}
            for k, (x, y) in data.items()}


def run_plan(plan, data_dir):
    t0 = time.perf_counter()
    threads = int(plan.get("threads", 1))
    torch.set_num_threads(threads)
    data = load_data(data_dir)
    seed, lr = int(plan.get("seed", 1)), float(plan.get("lr", 0.1))
    configs = [Config(spec, data, seed, lr) for spec in plan["configs"]]
    rounds = int(plan.get("rounds", 1))
    total, done = rounds * len(configs), 0
    with torch.no_grad():
        for c in configs:
            c.check_dtypes()
        for r in range(rounds):
            for c in configs:
                if plan.get("progress"):
                    progress = {"round": r + 1, "rounds": rounds, "id": c.id, "done": done, "total": total}
                    print(json.dumps({"progress": progress}), file=sys.stderr, flush=True)
                c.run_round(first=(r == 0))
                done += 1
    return {
        "schema": "mnist-duel/torch-ref", "version": 1,
        **environment(),
        "data": {"dir": os.path.abspath(data_dir), **checksum(data)},
        "plan": {"rounds": rounds, "seed": seed, "lr": lr, "threads": threads},
        "results": [c.result(plan.get("samples", True)) for c in configs],
        "wallSeconds": time.perf_counter() - t0,
    }


# ------------------------------------------------------------------------------------------- check

def read_f32(path):
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    return torch.frombuffer(raw, dtype=F32) if raw else torch.zeros(0, dtype=F32)


def check(args):
    layers = parse_layers(args.layers)
    flat = read_f32(args.params)
    params, at = [], 0
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        W = flat[at:at + n_out * n_in].reshape(n_out, n_in).clone()
        at += n_out * n_in
        b = flat[at:at + n_out].reshape(n_out, 1).clone()
        at += n_out
        params.append((W, b))
    if at != len(flat):
        raise ValueError(f"{args.params}: {len(flat)} values, layers {layers} need {at}")
    with open(args.y, "rb") as f:
        y = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).to(torch.int64)
    m = len(y)
    X = read_f32(args.x).reshape(m, layers[0]).T  # n0×m
    masks = None
    if args.masks:
        mflat, masks, at = read_f32(args.masks), [], 0
        for n in layers[1:-1]:
            masks.append(mflat[at:at + m * n].reshape(m, n).T)  # the project's m×n → n×m
            at += m * n
        if at != len(mflat):
            raise ValueError(f"{args.masks}: {len(mflat)} values, {m} samples of hidden layers {layers[1:-1]} need {at}")
    with torch.no_grad():
        loss, grads = gradients(params, X, y, masks)
        sgd_update(params, grads, args.lr)
    out = [loss.reshape(1)] + [a.reshape(-1) for g in grads for a in g] + [a.reshape(-1) for p in params for a in p]
    with open(args.out, "wb") as f:
        f.write(array.array("f", torch.cat(out).to(F32).tolist()).tobytes())  # float32, this machine's order (x86: little-endian)
    print(json.dumps({
        "m": m, "loss": float(loss), "masks": masks is not None,
        "dtypes": {"loss": str(loss.dtype).replace("torch.", ""), "grads": [str(a.dtype).replace("torch.", "") for g in grads for a in g],
                   "params": [str(a.dtype).replace("torch.", "") for p in params for a in p]},
    }))


# -------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description="The notebook's MNIST network in PyTorch float32: timing and gradient checks.")
    ap.add_argument("data_dir", nargs="?", help="folder with the four MNIST IDX files")
    ap.add_argument("--layers", default="784,10,10")
    ap.add_argument("--what", default="step", choices=["step", "forward", "gradients"])
    ap.add_argument("--batch", default="64", help="samples per call, or 'full'")
    ap.add_argument("--keep", help="dropout keep probability per hidden layer, e.g. 0.4,0.5 (default: none)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
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
    ap.add_argument("--masks")
    ap.add_argument("--out")
    args = ap.parse_args()

    if args.check:
        if not (args.params and args.x and args.y and args.out):
            ap.error("--check needs --params, --x, --y and --out")
        torch.set_num_threads(args.threads)
        check(args)
        return
    if not args.data_dir:
        ap.error("DATA_DIR is required")
    if args.plan:
        plan = json.load(sys.stdin if args.plan == "-" else open(args.plan))
    else:
        budget = {"timeMs": args.time_ms, "minCalls": args.min_calls, "warmupMs": args.warmup_ms,
                  "warmupCalls": args.warmup_calls, "warmupEveryRound": True}
        batch = "full" if args.batch == "full" else int(args.batch)
        plan = {"rounds": args.rounds, "seed": args.seed, "lr": args.lr, "samples": args.samples, "threads": args.threads,
                "configs": [{"layers": args.layers, "what": args.what, "batch": batch, "keep": args.keep, "budget": budget}]}
    json.dump(run_plan(plan, args.data_dir), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
