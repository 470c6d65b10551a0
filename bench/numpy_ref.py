#!/usr/bin/env python3
"""
The notebook's network in numpy, as a reference row for `npm run bench` (bench/numpy.ts runs it).

Everything is float32, as in the rest of the project. For a list of layers n0 (784), n1, ..., nL (10),
with X the n0×m input (features × samples) and Y the 10×m one-hot labels:

    forward    Z_l = W_l·A_(l-1) + b_l     A_0 = X;  A_l = ReLU(Z_l) for l < L;  A_L = softmax(Z_L)
    loss       mean over the batch of −log A_L[true class]   (log-softmax, so it never takes log 0)
    backward   dZ_L = A_L − Y
               dW_l = dZ_l·A_(l-1)ᵀ / m    db_l = Σ_samples dZ_l / m   (per unit)
               dZ_(l-1) = W_lᵀ·dZ_l ∘ ReLU′(Z_(l-1))
    update     W_l := W_l − α·dW_l ;  b_l := b_l − α·db_l               (α = 0.1 by default)

The softmax subtracts the column max. W_l is n_l×n_(l-1), b_l is n_l×1. 784,10,10 is the notebook's
network; 784,400,100,10 its deeper sibling.

What is timed (the same units of work as the TypeScript bench, bench/suites.ts):
    step       forward + loss + backward + SGD update, on the training set
    gradients  forward + loss + backward, weights fixed, on the training set
    forward    forward + argmax of A_L (class predictions), weights fixed, on the test set
Call i uses the batch of rows [i·m, (i+1)·m) of the split in file order, cycling through the first
min(1024, N // m) whole batches (the bench's batchesOf). X is a transposed view of those rows, no copy.
Each configuration keeps its own weights and its own place in the cycle from round to round.

Usage
    numpy_ref.py DATA_DIR --layers 784,10,10 --what step --batch 64 [--time-ms 250] [--min-calls 8]
                 [--warmup-ms 60] [--warmup-calls 3] [--rounds 1] [--seed 1] [--lr 0.1] [--samples]
    numpy_ref.py DATA_DIR --plan FILE|-      several configurations in one process (JSON, see below)
    numpy_ref.py --check --layers L --params P --x X --y Y --out OUT [--lr 0.1]

DATA_DIR holds the four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz). Pixels are scaled to float32 value/255.

The plan (--plan) is one JSON object, from a file or stdin ("-"):
    {"rounds": 3, "seed": 1, "lr": 0.1, "samples": true, "progress": false,
     "configs": [{"id": "...", "layers": [784, 10, 10], "what": "step", "batch": 64 | "full",
                  "budget": {"time": 250, "iterations": 8, "warmupTime": 60, "warmupIterations": 3,
                             "warmupEveryRound": true}}, ...]}
"full" is the whole split: 60,000 training images for step and gradients, 10,000 test images for
forward. In every round the configurations run in plan order. A round of one configuration is: warm-up
(if warmupIterations > 0, in every round or only the first) until both warmupTime ms have passed and
warmupIterations calls were made, then timed calls until both time ms have passed and iterations calls
were made (the budgets of bench/budgets.ts, as tinybench reads them); each
call is timed on its own (time.perf_counter_ns). With "progress": true in the plan, progress goes to
stderr as JSON lines {"progress": {"round", "rounds", "id", "done", "total"}}, one per round of each
configuration, before it runs.

Output: one JSON object on stdout: python and numpy versions, BLAS (build info from
numpy.show_config(mode='dicts') and, where it can be asked, the OpenBLAS actually loaded), the BLAS
thread count in effect (threadpoolctl if importable, else OpenBLAS's own get_num_threads through ctypes,
else null) with the thread environment variables, a checksum of the data read, and per configuration
the per-call times in ms (all of them if "samples"), per-round medians, n, median, p25, p75 (linear
interpolation), whether the weights were still finite at the end, and the last loss.
Exit status 3 with {"skipped": reason} on stdout: numpy is not importable.

--check (for the tests): reads little-endian raw files
    P    float32: for l = 1..L, W_l (n_l×n_(l-1), row-major) then b_l (n_l), concatenated in that order
    X    float32: m×784, one sample after another (the project's Batch.x)
    Y    uint8:   m labels 0..9 (m is the length of this file)
and writes to OUT, float32: the loss (1 value), the gradients in P's layout, then the weights after one
SGD step with α = --lr, in P's layout. Stdout: JSON with m and the dtype of every array computed.
"""
import json
import os
import platform
import sys
import time

try:
    import numpy as np
except ImportError as e:
    print(json.dumps({"skipped": f"numpy is not importable by {sys.executable}: {e}"}))
    sys.exit(3)

from ref_common import Timed, parse_layers, parser, split_params, plan_report, read_idx_bytes, run_rounds, split_paths
import ref_common

THREAD_VARS = ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"]
CLASSES = ref_common.CLASSES


# ---------------------------------------------------------------------------------------------- data

def read_idx(path):
    """An IDX file of unsigned bytes (raw or .gz) → uint8 array of the shape in its header."""
    raw, dims, offset = read_idx_bytes(path)
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims)


def load_split(data_dir, prefix):
    """(images m×784 float32 in [0, 1], one sample per row, file order; labels m uint8)."""
    images, labels = (read_idx(p) for p in split_paths(data_dir, prefix))
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return x, labels


# ------------------------------------------------------------------------------------------- network

def init_params(layers, seed):
    """[(W_l, b_l)]: the notebook's uniform(−0.5, 0.5) for one hidden layer, He-normal for deeper nets."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        if len(layers) == 3:
            W = rng.random((n_out, n_in), dtype=np.float32) - np.float32(0.5)
            b = rng.random((n_out, 1), dtype=np.float32) - np.float32(0.5)
        else:
            W = rng.standard_normal((n_out, n_in), dtype=np.float32) * np.float32(np.sqrt(2.0 / n_in))
            b = np.zeros((n_out, 1), np.float32)
        params.append((W, b))
    return params


def relu(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    """Column-wise softmax with the column max subtracted, and its log (for the loss)."""
    Zc = Z - Z.max(axis=0, keepdims=True)
    E = np.exp(Zc)
    sums = E.sum(axis=0, keepdims=True)
    return E / sums, Zc - np.log(sums)


def forward(params, X):
    """Z_l and A_l for every layer (A_0 = X), and log A_L."""
    Zs, As = [], [X]
    for l, (W, b) in enumerate(params):
        Z = W @ As[-1] + b
        Zs.append(Z)
        if l < len(params) - 1:
            As.append(relu(Z))
        else:
            A, logA = softmax(Z)
            As.append(A)
    return Zs, As, logA


def one_hot(y, m):
    Y = np.zeros((CLASSES, m), np.float32)
    Y[y, np.arange(m)] = 1
    return Y


def gradients(params, X, y):
    """(batch-mean cross-entropy, [(dW_l, db_l)]) for the n0×m batch X with labels y."""
    m = X.shape[1]  # a Python int: dividing a float32 array by it stays float32
    Zs, As, logA = forward(params, X)
    loss = -logA[y, np.arange(m)].mean()
    dZ = As[-1] - one_hot(y, m)
    grads = [None] * len(params)
    for l in reversed(range(len(params))):
        grads[l] = (dZ @ As[l].T / m, dZ.sum(axis=1, keepdims=True) / m)  # (dW_l, db_l)
        if l > 0:
            dZ = (params[l][0].T @ dZ) * (Zs[l - 1] > 0)
    return loss, grads


def sgd_update(params, grads, lr):
    for (W, b), (dW, db) in zip(params, grads):
        W -= lr * dW  # lr is a Python float, so lr·dW is float32
        b -= lr * db


def step(params, X, y, lr):
    loss, grads = gradients(params, X, y)
    sgd_update(params, grads, lr)
    return loss


def predict(params, X):
    _, As, _ = forward(params, X)
    return As[-1].argmax(axis=0)


def all_float32(arrays):
    return all(a.dtype == np.float32 for a in arrays)


# ------------------------------------------------------------------------------------ environment

def blas_build_info():
    try:
        deps = np.show_config(mode="dicts").get("Build Dependencies", {})
        blas = deps.get("blas", {})
        return {k: blas.get(k) for k in ("name", "version", "openblas configuration") if blas.get(k) is not None}
    except Exception as e:  # numpy < 1.26 has no mode='dicts'
        return {"error": str(e)}


def loaded_openblas():
    """The OpenBLAS shared library this process has loaded (Linux: from /proc/self/maps), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            try:
                get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
            except AttributeError:
                continue
            get_threads.restype = ctypes.c_int
            info = {"library": path, "threads": get_threads()}
            for what in ("config", "corename"):
                try:
                    fn = getattr(lib, f"{prefix}_get_{what}{suffix}")
                    fn.restype = ctypes.c_char_p
                    info[what] = fn().decode()
                except AttributeError:
                    pass
            return info
    return None


def blas_threads():
    """The BLAS thread count in effect and how it was learnt."""
    env = {k: os.environ.get(k) for k in THREAD_VARS}
    try:
        from threadpoolctl import threadpool_info
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            return {"blas": blas[0]["num_threads"], "source": "threadpoolctl", "libraries": blas, "env": env}
    except ImportError:
        pass
    ob = loaded_openblas()
    if ob is not None:
        return {"blas": ob["threads"], "source": "openblas get_num_threads (ctypes)", "env": env}
    return {"blas": None, "source": "unknown (no threadpoolctl, no OpenBLAS found): see env", "env": env}


def environment():
    ob = loaded_openblas()
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "numpy": np.__version__,
        "blas": {"build": blas_build_info(), "runtime": ob},
        "threads": blas_threads(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


# ------------------------------------------------------------------------------------------ timing

class Config(Timed):
    """One timed unit of work: its weights, its batches and its samples (ref_common.Timed)."""

    def __init__(self, spec, data, seed, lr):
        super().__init__(spec, data, "numpy", seed, init_params)
        params = self.params
        if self.what == "step":
            self.call = lambda X, y: step(params, X, y, lr)
        elif self.what == "gradients":
            self.call = lambda X, y: gradients(params, X, y)[0]
        else:
            self.call = lambda X, y: predict(params, X)

    def call_at(self, i):
        return self.call(*self.batches[i])

    def check_dtypes(self):
        """Float32 throughout: the loss, every gradient and every weight."""
        X, y = self.batches[0]
        loss, grads = gradients(self.params, X, y)
        arrays = [loss] + [a for g in grads for a in g] + [a for p in self.params for a in p]
        if not all_float32(arrays):
            raise TypeError(f"{self.id}: not float32 throughout: {[str(a.dtype) for a in arrays]}")


def load_data(data_dir):
    return {"train": load_split(data_dir, "train"), "test": load_split(data_dir, "t10k")}


def checksum(data):
    return {k: {"m": len(y), "pixelSum": float(x.sum(dtype=np.float64)), "labelSum": int(y.sum(dtype=np.int64))}
            for k, (x, y) in data.items()}


def run_plan(plan, data_dir):
    t0 = time.perf_counter()
    data = load_data(data_dir)
    seed, lr = int(plan.get("seed", 1)), float(plan.get("lr", 0.1))
    configs = [Config(spec, data, seed, lr) for spec in plan["configs"]]
    for c in configs:
        c.check_dtypes()
    rounds = run_rounds(plan, configs)
    results = [c.result(plan.get("samples", True), all(bool(np.isfinite(a).all()) for p in c.params for a in p)) for c in configs]
    return plan_report("mnist-duel/numpy-ref", environment(), data_dir, checksum(data), {"rounds": rounds, "seed": seed, "lr": lr}, results, t0)


# ------------------------------------------------------------------------------------------- check

def check(args):
    layers = parse_layers(args.layers)
    params = split_params(np.fromfile(args.params, dtype="<f4"), layers, lambda a: a.copy(), args.params)
    y = np.fromfile(args.y, dtype=np.uint8)
    m = len(y)
    X = np.fromfile(args.x, dtype="<f4").reshape(m, layers[0]).T  # n0×m
    loss, grads = gradients(params, X, y)
    sgd_update(params, grads, args.lr)
    out = [np.asarray(loss).reshape(1)] + [a.ravel() for g in grads for a in g] + [a.ravel() for p in params for a in p]
    np.concatenate(out).astype("<f4").tofile(args.out)
    print(json.dumps({
        "m": m, "loss": float(loss),
        "dtypes": {"loss": str(loss.dtype), "grads": [str(a.dtype) for g in grads for a in g],
                   "params": [str(a.dtype) for p in params for a in p]},
    }))


# -------------------------------------------------------------------------------------------- main

if __name__ == "__main__":
    ref_common.main(parser("The notebook's MNIST network in numpy float32: timing and gradient checks."), check, run_plan)
