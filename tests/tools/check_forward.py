#!/usr/bin/env python3
"""Test of `lits forward` (tests/CMakeLists.txt, cli_forward_output), Python standard library only.

Usage: check_forward.py LITS WORK_DIR

On the Demo_Liver network (softmax over 2 classes): the float64 output has the input's batch and size, is
finite, lies in [0, 1] and sums to 1 over the classes at every pixel, and is not constant; weights written by
--save-weights and read back by --weights give the same bytes under another seed, while that other seed
alone gives another output; --dtype float32 agrees with float64 to float32 precision; an input with the
wrong channel count is refused. Exit status 0 when all hold, 1 with the reason otherwise."""
import array
import ast
import math
import os
import random
import struct
import subprocess
import sys

N, C, K, S = 2, 3, 2, 32  # Demo_Liver: 3 input slices, 2 classes, sizes divisible by 8


def write_npy(path, shape, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (tuple(shape),)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(array.array("d", values).tobytes())


def read_npy(path):
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"\x93NUMPY\x01\x00", f"{path}: not an .npy file of format 1.0"
    n = struct.unpack("<H", blob[8:10])[0]
    assert (10 + n) % 64 == 0, f"{path}: data starts at {10 + n}, not a multiple of 64 as NumPy writes"
    header = ast.literal_eval(blob[10:10 + n].decode())
    code = {"<f8": "d", "<f4": "f"}[header["descr"]]
    values = array.array(code)
    values.frombytes(blob[10 + n:])
    assert not header["fortran_order"]
    assert len(values) == math.prod(header["shape"]), f"{path}: {len(values)} values for {header['shape']}"
    return header["descr"], tuple(header["shape"]), values


def lits(tool, *args, fail=False):
    p = subprocess.run([tool, "forward", "--setup", "Demo_Liver.txt", *args], capture_output=True, text=True)
    if (p.returncode != 0) != fail:
        raise AssertionError(f"lits forward {' '.join(args)}: status {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def main():
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    path = lambda name: os.path.join(work, name)  # noqa: E731
    rng = random.Random(7)
    write_npy(path("x.npy"), (N, C, S, S), [rng.random() for _ in range(N * C * S * S)])

    lits(tool, "--input", path("x.npy"), "--output", path("a.npy"), "--seed", "3", "--save-weights",
         path("w.safetensors"))
    descr, shape, a = read_npy(path("a.npy"))
    assert descr == "<f8" and shape == (N, K, S, S), f"output {descr} {shape}, expected <f8 {(N, K, S, S)}"
    assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in a), "output values outside [0, 1] or not finite"
    hw = S * S
    for n in range(N):
        for p in range(hw):
            total = a[n * K * hw + p] + a[n * K * hw + hw + p]
            assert abs(total - 1.0) < 1e-12, f"sample {n} pixel {p}: class probabilities sum to {total}"
    assert max(a) - min(a) > 1e-3, f"output nearly constant ({min(a)} to {max(a)})"

    lits(tool, "--input", path("x.npy"), "--output", path("b.npy"), "--seed", "4", "--weights", path("w.safetensors"))
    assert read_npy(path("b.npy"))[2] == a, "the weights saved with --save-weights do not give the same output"
    lits(tool, "--input", path("x.npy"), "--output", path("c.npy"), "--seed", "4")
    assert read_npy(path("c.npy"))[2] != a, "another seed gave the same output"

    lits(tool, "--input", path("x.npy"), "--output", path("d.npy"), "--seed", "3", "--dtype", "float32")
    descr, shape, d = read_npy(path("d.npy"))
    assert descr == "<f4" and shape == (N, K, S, S), f"float32 output {descr} {shape}"
    worst = max(abs(u - v) for u, v in zip(a, d))
    assert worst < 1e-4, f"float32 and float64 outputs differ by {worst}"

    write_npy(path("bad.npy"), (N, 1, S, S), [0.5] * (N * S * S))
    message = lits(tool, "--input", path("bad.npy"), "--output", path("e.npy"), fail=True)
    assert "expected [N, 3, H, W]" in message, f"a 1-channel input was refused without the reason: {message}"
    print(f"check_forward: ok (max |float32 - float64| {worst:.2e})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"check_forward: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
