#!/usr/bin/env python3
"""Test of `lits export` (tests/CMakeLists.txt, cli_export_onnx_matches): the exported ONNX graph against `lits`.

Usage: check_onnx.py LITS WORK_DIR [--venv-python PY] [--checker onnxruntime|reference]

Trains a few tiny networks for one epoch on a small phantom store (`lits synth`, `lits convert`, one
`lits train` of a setup file with one run block per variant below, so BatchNorm's running statistics and
every weight are trained values), exports each run with `lits export`, and runs the ONNX model on the same
float32 input as `lits forward --model RUN --dtype float32`: the probabilities must agree within 1e-4 (the
logits of runs trained on logits through softmax first, since the export always ends in probabilities), on
two inputs of different N, H and W (the dynamic dimensions). Also checks the graph's input and output
names and its size divisor metadata. Prints max |diff| per variant and which checker ran.

The checker: onnxruntime where it imports (tools/setup.sh installs it from PyPI into build-venv/, whose
Python is passed as --venv-python), else ONNX's reference evaluator (onnx >= 1.13); with neither, or a
`lits` built without ONNX, the test is skipped (status 77) with the reason. --checker forces one.
Exit status 0 when all holds, 1 with the reason otherwise."""
import os
import subprocess
import sys

TOL = 1e-4
SKIP = 77

# name: (what it covers, Network lines, Training loss). Every variant is small enough to train in seconds.
VARIANTS = {
    "base": ("base blocks, BatchNorm, max pooling, transposed up-conv, softmax, dropout",
             {"structure": "[[1,2,1]]", "filter_start": "[4]", "channels": "[1]", "dropout": "[0.1]"},
             "multiclass_pwce"),
    "res_convpool_nearest": ("ResBlocks, residual backbone, strided-conv pooling (folded norms), nearest "
                             "upsampling, dilation, 3 input slices",
                             {"structure": "[[1,1,1]]", "filter_start": "[8]", "channels": "[3]",
                              "block_type": "['res']", "backbone": "['residual']", "use_conv_pool": "[True]",
                              "up_conv_type": "[[]]", "dilation": "[[1,2,1]]", "dropout": "[0]"},
                             "multiclass_pwce"),
    "groupnorm_se_pypool": ("GroupNorm, squeeze-excitation, dense residual backbone, pypool, max pooling",
                            {"structure": "[[1,2,1]]", "filter_start": "[4]", "channels": "[1]",
                             "use_batchnorm": "[False]", "backbone": "['dense_residual']", "se_reduction": "[0.5]",
                             "use_pypool": "[True]", "dropout": "[0]"},
                            "multiclass_pwce"),
    "logits_convpool_aux": ("logits loss (cross_entropy: softmax added by the export), 4 levels, strided-conv "
                            "pooling, deep supervision heads (left out), decoder widths and dilations",
                            {"structure": "[[1,1,1,1]]", "structure_up": "[[1,2,1,1]]", "filter_start": "[4]",
                             "filter_start_up": "[2]", "channels": "[1]", "use_conv_pool": "[True]",
                             "use_auxiliary_inputs": "[True]", "dilation_up": "[[1,1,2,1]]", "init_type": "['he_u']",
                             "dropout": "[0.2]"},
                            "cross_entropy"),
    "sigmoid_groupnorm_res": ("one sigmoid channel (binary_pwce), GroupNorm with ResBlocks, nearest upsampling",
                              {"structure": "[[1,1,1]]", "filter_start": "[16]", "channels": "[1]",
                               "use_batchnorm": "[False]", "block_type": "['res']", "up_conv_type": "[[]]",
                               "init_type": "['xavier_n']", "dropout": "[0]"},
                              "binary_pwce"),
    "dice_ce_se_res": ("Dice + CE on logits, BatchNorm ResBlocks with squeeze-excitation, strided-conv pooling, "
                       "pypool",
                       {"structure": "[[1,1,1]]", "filter_start": "[8]", "channels": "[1]", "block_type": "['res']",
                        "se_reduction": "[0.25]", "use_conv_pool": "[True]", "use_pypool": "[True]",
                        "dropout": "[0]"},
                       "dice_ce"),
}

TRAINING = {"data": "['liver']", "crop_size": "[[32,32]]", "batch_size": "[2]", "n_epochs": "[1]", "lr": "[3e-3]",
            "step_size": "[[1]]", "verbose_idx": "[50]", "wmap_weight": "[3]", "num_workers": "[0]"}


def probe(python, module):
    code = {"onnxruntime": "import onnxruntime, numpy",
            "reference": "from onnx.reference import ReferenceEvaluator; import numpy"}[module]
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def choose_checker(venv_python, forced):
    """(python, checker) of the first interpreter that has the checker, or (None, reason)."""
    pythons = [p for p in (venv_python, sys.executable) if p and os.path.exists(p)]
    for checker in ([forced] if forced else ["onnxruntime", "reference"]):
        for python in pythons:
            if probe(python, checker):
                return python, checker
    return None, (f"no ONNX checker: neither onnxruntime nor onnx.reference (onnx >= 1.13) imports in "
                  f"{' or '.join(pythons)}; tools/setup.sh installs onnxruntime into build-venv/ from PyPI")


def run(args, fail=False):
    """The command's output; it must fail when `fail`, succeed when not, either way when None."""
    p = subprocess.run(args, capture_output=True, text=True)
    if fail is not None and (p.returncode != 0) != fail:
        raise AssertionError(f"{' '.join(args)}: status {p.returncode}\n{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def write_setup(path):
    with open(path, "w") as f:
        f.write("% Written by tests/tools/check_onnx.py: one tiny network per run block.\n")
        for i, (name, (what, network, loss)) in enumerate(VARIANTS.items(), 1):
            f.write(f"==================== [{i}] {name}: {what}\n######################################## Network\n")
            f.writelines(f"{k}: {v}\n" for k, v in network.items())
            f.write("######################################## Training\n")
            f.writelines(f"{k}: {v}\n" for k, v in TRAINING.items())
            f.write(f"loss_func: ['{loss}']\nsavename: ['{name}']\n")


class Checker:
    def __init__(self, kind):
        import numpy
        self.np, self.kind = numpy, kind
        if kind == "onnxruntime":
            import onnxruntime
            self.name = f"onnxruntime {onnxruntime.__version__}"
        else:
            import onnx
            self.name = f"onnx.reference.ReferenceEvaluator (onnx {onnx.__version__})"

    def load(self, path):
        """(run(x) -> output, input name, output name, metadata dict)."""
        if self.kind == "onnxruntime":
            import onnxruntime
            opts = onnxruntime.SessionOptions()
            opts.intra_op_num_threads = 2
            s = onnxruntime.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            meta = s.get_modelmeta()
            return (lambda x: s.run(None, {"input": x})[0], s.get_inputs()[0].name, s.get_outputs()[0].name,
                    dict(meta.custom_metadata_map))
        import onnx
        from onnx.reference import ReferenceEvaluator
        model = onnx.load(path)
        ev = ReferenceEvaluator(model)
        return (lambda x: ev.run(None, {"input": x})[0], model.graph.input[0].name, model.graph.output[0].name,
                {p.key: p.value for p in model.metadata_props})


def probabilities(np, out, logits):
    if not logits:
        return out
    z = out.astype(np.float64)
    if z.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    args = sys.argv[1:]
    opts = {}
    while len(args) > 2 and args[-2].startswith("--"):
        opts[args[-2]] = args[-1]
        args = args[:-2]
    tool, work = args
    python, checker = choose_checker(opts.get("--venv-python"), opts.get("--checker"))
    if python is None:
        print(f"SKIPPED: {checker}")
        return SKIP
    if os.path.abspath(python) != os.path.abspath(sys.executable) and not os.environ.get("LITS_CHECK_ONNX_EXEC"):
        os.environ["LITS_CHECK_ONNX_EXEC"] = "1"
        os.execv(python, [python, os.path.abspath(__file__), tool, work, "--checker", checker])
    check = Checker(checker)
    np = check.np
    print(f"checker: {check.name} (Python {sys.executable})")

    os.makedirs(work, exist_ok=True)
    path = lambda *p: os.path.join(work, *p)  # noqa: E731
    run([tool, "synth", "--out", path("synth"), "--train", "2", "--test", "0", "--size", "64", "--slices", "12",
         "--seed", "5"])
    run([tool, "convert", "--in", path("synth"), "--out", path("store"), "--workers", "2"])
    write_setup(path("variants.txt"))
    run([tool, "train", "--setup", path("variants.txt"), "--data", path("store"), "--save", path("runs"), "--no-date",
         "--device", "cpu"])

    rng = np.random.default_rng(11)
    worst = 0.0
    for name, (what, network, loss) in VARIANTS.items():
        rundir = path("runs", f"vUnet2D_{name}")
        onnx_path = path(f"{name}.onnx")
        out = run([tool, "export", "--run", rundir, "--onnx", onnx_path], fail=None)
        if "built without ONNX" in out:
            print(f"SKIPPED: {out.strip()}")
            return SKIP
        assert os.path.exists(onnx_path), f"{name}: lits export wrote nothing\n{out}"
        execute, in_name, out_name, meta = check.load(onnx_path)
        assert (in_name, out_name) == ("input", "probabilities"), f"{name}: graph names {in_name}, {out_name}"
        levels = network["structure"].count(",") + 1
        assert meta.get("lits.size_divisor") == str(2 ** (levels - 1)), f"{name}: metadata {meta}"
        channels = int(network["channels"].strip("[]"))
        diffs = []
        for shape in [(2, channels, 32, 48), (1, channels, 16, 64)]:
            x = rng.uniform(-0.3, 1.2, size=shape).astype(np.float32)
            np.save(path("x.npy"), x)
            run([tool, "forward", "--model", rundir, "--input", path("x.npy"), "--output", path("ref.npy"), "--dtype",
                 "float32", "--device", "cpu"])
            ref = probabilities(np, np.load(path("ref.npy")), loss in ("cross_entropy", "dice_ce"))
            got = execute(x)
            assert got.shape == ref.shape, f"{name}: ONNX output {got.shape}, lits {ref.shape}"
            assert np.all(np.isfinite(got)), f"{name}: ONNX output not finite"
            assert float(ref.max() - ref.min()) > 1e-3, f"{name}: lits' output is nearly constant: a vacuous check"
            diffs.append(float(np.max(np.abs(got.astype(np.float64) - ref))))
        d = max(diffs)
        worst = max(worst, d)
        print(f"{name:24s} max |diff| {d:.2e} over inputs {[(2, channels, 32, 48), (1, channels, 16, 64)]} "
              f"({what}) {'ok' if d <= TOL else 'FAILED'}")
        assert d <= TOL, f"{name}: the ONNX model differs from lits by {d:.3g} > {TOL}"

    # Bad input is refused by name: a folder that is not a run, an output folder that does not exist.
    out = run([tool, "export", "--run", path("store"), "--onnx", path("x.onnx")], fail=True)
    assert "not a run folder" in out and "store" in out, out
    out = run([tool, "export", "--run", path("runs", "vUnet2D_base"), "--onnx", path("missing", "x.onnx")], fail=True)
    assert "does not exist" in out and "missing" in out, out
    print(f"all {len(VARIANTS)} variants match lits within {TOL} (worst {worst:.2e}); checker: {check.name}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAILED: {e}")
        sys.exit(1)
