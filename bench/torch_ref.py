#!/usr/bin/env python3
"""
The notebook's network in PyTorch, as a reference row beside numpy's (bench/numpy_ref.py): the same
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
                  "keep": [0.4, 0.5], "budget": {"time": 250, "iterations": 8, "warmupTime": 60,
                                                 "warmupIterations": 3, "warmupEveryRound": true}}, ...]}

Output: one JSON object on stdout: python and torch versions, the thread counts in effect
(torch.get_num_threads, get_num_interop_threads) with the thread environment variables, torch's parallel
and BLAS configuration, a checksum of the data read, and per configuration what numpy_ref.py gives.
Exit status 3 with {"skipped": reason} on stdout: torch is not importable.

--check (for the tests): the files of numpy_ref.py's --check, and MASKS (optional) float32: for each
hidden layer, its m×n_l mask, one sample after another (the project's layout), concatenated. Writes to
OUT, float32: the loss, the gradients in P's layout, then the weights after one SGD step with α = --lr.
Stdout: JSON with m and the dtype of every array computed.
"""
import array
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

from ref_common import Timed, parse_layers, parser, split_params, plan_report, read_idx_bytes, run_rounds, split_paths
import ref_common

THREAD_VARS = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
MASK_SETS = 8  # as the bench's
CLASSES = ref_common.CLASSES
F32 = torch.float32


# ---------------------------------------------------------------------------------------------- data

def read_idx(path):
    """An IDX file of unsigned bytes (raw or .gz) → uint8 tensor of the shape in its header."""
    raw, dims, offset = read_idx_bytes(path)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=offset).reshape(dims)


def load_split(data_dir, prefix):
    """(images m×784 float32 in [0, 1], one sample per row, file order; labels m int64)."""
    images, labels = (read_idx(p) for p in split_paths(data_dir, prefix))
    x = images.reshape(len(images), -1).to(F32) / torch.tensor(255, dtype=F32)
    return x, labels.to(torch.int64)



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

def parse_keep(keep, layers):
    if keep is None:
        return None
    keep = [float(v) for v in (keep.split(",") if isinstance(keep, str) else keep)]
    if len(keep) != len(layers) - 2 or not all(0 < k <= 1 for k in keep):
        raise ValueError(f"keep must be one probability in (0, 1] per hidden layer of {layers}, got {keep}")
    return None if all(k == 1 for k in keep) else keep


class Config(Timed):
    """One timed unit of work: its weights, its batches (and masks) and its samples (ref_common.Timed)."""

    def __init__(self, spec, data, seed, lr):
        super().__init__(spec, data, "torch", seed, init_params)
        self.keep = parse_keep(spec.get("keep"), self.layers) if self.what != "forward" else None
        if self.keep and not spec.get("id"):
            self.id = self.id.replace(f"{self.what} · ", f"{self.what} + dropout · ", 1)
        g = torch.Generator().manual_seed(seed)
        self.mask_sets = [draw_masks(self.layers[1:-1], self.keep, self.m, g) for _ in range(MASK_SETS)] if self.keep else None
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

    def call_at(self, i):
        X, y = self.batches[i]
        return self.call(X, y, self.mask_sets[i % MASK_SETS] if self.mask_sets else None)

    def check_dtypes(self):
        X, y = self.batches[0]
        loss, grads = gradients(self.params, X, y, self.mask_sets[0] if self.mask_sets else None)
        arrays = [loss] + [a for g in grads for a in g] + [a for p in self.params for a in p]
        if not all(a.dtype == F32 for a in arrays):
            raise TypeError(f"{self.id}: not float32 throughout: {[str(a.dtype) for a in arrays]}")


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
    with torch.no_grad():
        for c in configs:
            c.check_dtypes()
        rounds = run_rounds(plan, configs)
    results = [c.result(plan.get("samples", True), all(bool(torch.isfinite(a).all()) for p in c.params for a in p), keep=c.keep) for c in configs]
    return plan_report("mnist-duel/torch-ref", environment(), data_dir, checksum(data), {"rounds": rounds, "seed": seed, "lr": lr, "threads": threads}, results, t0)


# ------------------------------------------------------------------------------------------- check

def read_f32(path):
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    return torch.frombuffer(raw, dtype=F32) if raw else torch.zeros(0, dtype=F32)


def check(args):
    layers = parse_layers(args.layers)
    params = split_params(read_f32(args.params), layers, lambda a: a.clone(), args.params)
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
    ap = parser("The notebook's MNIST network in PyTorch float32: timing and gradient checks.")
    ap.add_argument("--keep", help="dropout keep probability per hidden layer, e.g. 0.4,0.5 (default: none)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--masks")

    def checked(args):
        torch.set_num_threads(args.threads)
        check(args)

    ref_common.main(ap, checked, run_plan, plan_extra=lambda a: {"threads": a.threads}, config_extra=lambda a: {"keep": a.keep})


if __name__ == "__main__":
    main()
