#!/usr/bin/env python3
"""Compares lits-engine with PyTorch on the same UNet, side by side in one run.

1. Checks: for each setup file (every run of it), the UNet is built in PyTorch (tools/torch_unet.py) from
   the configuration `lits info --json` resolves, with the state-dict names of the lits checkpoints
   (docs/models.md). Its parameter count must equal lits's, and its forward pass in float64 must match
   `lits forward` on the same input within --tolerance (max abs difference): in eval mode with the weights
   lits initialised (read from the safetensors file lits wrote), in eval mode with random BatchNorm running
   statistics (written by this script, read by lits), and in training mode (batch statistics; skipped for
   networks with dropout, whose masks come from different generators).
2. Timings (unless --check-only), alternating lits and PyTorch (lits, torch, lits, torch, ...), each in
   a child process with the same thread count: a training step (forward, the setup's loss, backward,
   Adam) of the Small preset at batch 4 and of the Big preset at batch 1, 256 x 256, and inference of
   the Small preset (eval mode, no gradients) at 512 x 512, batch 1. The lits training time is the step's
   compute (forward + loss + backward + optimizer, `compute_ms` of `lits bench train --json`): its data
   loader is excluded, and PyTorch's step has no loader. Medians over --rounds rounds, each round's figure
   the median of its timed steps.

With --device cuda the PyTorch side runs as eager float32, eager TF32, AMP bfloat16 with channels_last,
and torch.compile (PyTorch >= 2), each against lits on the GPU.

PyTorch is an optional dependency of this script only. Without it (or without CUDA in it for
--device cuda) the script prints why, and exits with --skip-status (0 unless told otherwise).
Python standard library and torch only; no numpy.
"""
import argparse
import ast
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from torch_unet import (Failure, build_unet, load_lits_weights, make_loss, model_state, read_npy, write_npy,
                        write_safetensors)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_VARIANTS_CPU = ["eager_fp32"]
TORCH_VARIANTS_CUDA = ["eager_fp32", "eager_tf32", "amp_bf16_cl", "compile"]


# ---------------------------------------------------------------------------------------------------
# lits


def vm_hwm(pid):
    """The peak resident set (VmHWM) of a running process, in bytes; None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_cmd(cmd, env=None, what=None):
    """Runs a command; returns (stdout text, its peak resident set in bytes, sampled every 50 ms).

    The peak is read from /proc (VmHWM, the high-water mark of the child's own memory since its exec), not
    from wait4's ru_maxrss: Linux carries the parent's peak over fork and exec into the child's ru_maxrss,
    so after the float64 checks held a large network here every child would report this process's peak."""
    peak = None
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        while True:
            hwm = vm_hwm(p.pid)  # a zombie has no VmHWM: the last sample while it ran stands
            peak = max(peak or 0, hwm) if hwm is not None else peak
            pid, status = os.waitpid(p.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if p.returncode != 0:
        raise Failure(f"{what or cmd[0]} failed (status {p.returncode}): {' '.join(cmd)}\n{text[-3000:]}")
    return text, peak


def thread_env(threads):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    return env


def lits_info(lits, setup, base, size):
    cmd = [lits, "info", "--setup", setup, "--size", str(size), "--json"] + (["--base", base] if base else [])
    runs = json.loads(run_cmd(cmd, what="lits info")[0])
    for r in runs:
        r["training"] = {k: ast.literal_eval(v) for k, v in r["parameters"].items()}
    return runs


# ---------------------------------------------------------------------------------------------------
# Checks: parameter count and float64 forward parity


def check_setup(args, setup, work):
    import torch
    rows = []
    for info in lits_info(args.lits, setup, args.base, args.check_size):
        cfg, r = info["network"], info["run"]
        tag = f"{os.path.basename(setup)} run {r}"
        dev = torch.device(args.device)
        torch.manual_seed(1000 + r)
        net = build_unet(cfg)
        count = sum(p.numel() for p in net.parameters())
        row = {"setup": setup, "run": r, "parameters_lits": info["parameter_count"], "parameters_torch": count,
               "size": args.check_size, "batch": args.check_batch, "max_abs_diff": {}}
        x = torch.rand(args.check_batch, cfg["channels"], args.check_size, args.check_size, dtype=torch.float64)
        xin, w0, w1 = (os.path.join(work, f"check_{n}") for n in ("x.npy", "w0.safetensors", "w1.safetensors"))
        write_npy(xin, x)
        base = [args.lits, "forward", "--setup", setup, "--run", str(r), "--input", xin, "--device", args.device,
                "--dtype", "float64"] + (["--base", args.base] if args.base else [])
        env = thread_env(args.threads)

        def lits_forward(name, extra):
            out = os.path.join(work, f"check_{name}.npy")
            run_cmd(base + ["--output", out] + extra, env=env, what="lits forward")
            return read_npy(out)

        def torch_forward(train):
            net.train(train)
            with torch.no_grad():
                return net(x.to(dev))[0].cpu()

        def compare(name, a, b):
            if a.shape != b.shape:
                raise Failure(f"{tag} {name}: lits output {tuple(a.shape)}, PyTorch {tuple(b.shape)}")
            d = (a - b).abs().max().item()
            row["max_abs_diff"][name] = d
            row.setdefault("output_range", {})[name] = [b.min().item(), b.max().item()]

        # 1. lits's initial weights, read here: eval mode with the initial running statistics.
        y = lits_forward("eval_init", ["--seed", "1", "--save-weights", w0])
        load_lits_weights(net, w0)
        net.double().to(dev)
        compare("eval_init", y, torch_forward(False))
        # 2. Random BatchNorm running statistics written here, read by lits: eval mode uses them.
        with torch.no_grad():
            for name, t in model_state(net).items():
                if name.endswith("running_mean"):
                    t.copy_(torch.rand(t.shape, dtype=torch.float32) * 0.4 - 0.2)
                elif name.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, dtype=torch.float32) + 0.5)
        # float32 on both sides of the file: lits initialises in float32 and goes to float64 after loading.
        write_safetensors(w1, {"model." + k: v.float() for k, v in model_state(net).items()})
        compare("eval_bn_stats", lits_forward("eval_bn", ["--weights", w1]), torch_forward(False))
        # 3. Training mode (batch statistics); dropout masks come from different generators.
        if cfg["dropout"] == 0:
            compare("train_mode", lits_forward("train", ["--weights", w1, "--train-mode"]), torch_forward(True))
        row["ok"] = count == info["parameter_count"] and all(d <= args.tolerance for d in row["max_abs_diff"].values())
        diffs = ", ".join(f"{k} {v:.2e}" for k, v in row["max_abs_diff"].items())
        print(f"check {tag}: parameters lits {info['parameter_count']:,} torch {count:,}; float64 forward "
              f"{args.check_batch} x {cfg['channels']} x {args.check_size} x {args.check_size}, max |lits - torch|: "
              f"{diffs} (tolerance {args.tolerance:g}): {'ok' if row['ok'] else 'FAILED'}", flush=True)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------
# Timings


def torch_child(spec_path):
    """Runs in a child process: times one case for each PyTorch variant, prints one JSON line."""
    import torch
    with open(spec_path) as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    dev = torch.device(spec["device"])
    cfg, train = spec["network"], spec["training"]
    b, s = spec["batch"], spec["size"]
    results = {}
    for variant in spec["variants"]:
        torch.manual_seed(1)
        if dev.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = variant == "eager_tf32"
            torch.backends.cudnn.allow_tf32 = variant == "eager_tf32"
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        if variant == "compile" and not hasattr(torch, "compile"):
            results[variant] = {"skipped": f"torch.compile needs PyTorch >= 2 (this is {torch.__version__})"}
            continue
        net = build_unet(cfg).to(dev)
        fmt = torch.channels_last if variant == "amp_bf16_cl" else torch.contiguous_format
        net = net.to(memory_format=fmt)
        run = torch.compile(net) if variant == "compile" else net
        x = torch.rand(b, cfg["channels"], s, s, device=dev).contiguous(memory_format=fmt)

        def autocast():
            if variant == "amp_bf16_cl":
                return torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
            return torch.autocast(device_type=dev.type, enabled=False)

        def sync():
            if dev.type == "cuda":
                torch.cuda.synchronize()

        times = []
        if spec["kind"] == "train":
            net.train()
            y = torch.randint(0, cfg["num_out_classes"] if cfg["num_out_classes"] > 1 else 2, (b, s, s), device=dev)
            w = torch.rand(b, s, s, device=dev) * 0.75 + 0.25
            loss_fn = make_loss(train)
            opt = torch.optim.Adam(net.parameters(), lr=float(train["lr"]), betas=(0.9, 0.999), eps=1e-8,
                                   weight_decay=float(train["l2_reg"]))
            for i in range(spec["warmup"] + spec["steps"]):
                sync()
                t0 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                with autocast():
                    out, aux = run(x)
                loss = loss_fn(out, aux, y, w)
                loss.backward()
                opt.step()
                if not math.isfinite(loss.item()):
                    raise Failure(f"PyTorch {variant}: loss {loss.item()} at step {i}")
                sync()
                if i >= spec["warmup"]:
                    times.append(1e3 * (time.perf_counter() - t0))
        else:
            net.eval()
            with torch.no_grad():
                for i in range(spec["warmup"] + spec["steps"]):
                    sync()
                    t0 = time.perf_counter()
                    with autocast():
                        run(x)
                    sync()
                    if i >= spec["warmup"]:
                        times.append(1e3 * (time.perf_counter() - t0))
        r = {"ms": statistics.median(times), "steps_ms": times}
        if dev.type == "cuda":
            r["peak_bytes"] = torch.cuda.max_memory_allocated()
        results[variant] = r
        del net, run
    with open("/proc/self/status") as f:
        hwm = [line for line in f if line.startswith("VmHWM:")]
    print(json.dumps({"torch_version": torch.__version__, "variants": results,
                      "vmhwm_bytes": int(hwm[0].split()[1]) * 1024 if hwm else None}))


CASES = [
    # name, what, setup, kind, batch, size
    ("train_small", "train step, Small, batch 4, 256 x 256", "Setup_Small_Liver.txt", "train", 4, 256),
    ("train_big", "train step, Big, batch 1, 256 x 256", "Setup_Big_Liver.txt", "train", 1, 256),
    ("infer_small", "inference, Small, batch 1, 512 x 512", "Setup_Small_Liver.txt", "infer", 1, 512),
]


def time_lits(args, case, work):
    name, _, setup, kind, batch, size = case
    out = os.path.join(work, f"lits_{name}.json")
    common = ["--setup", setup, "--device", args.device, "--json", out] + (["--base", args.base] if args.base else [])
    if kind == "train":
        # --workers 0: the loader runs inline, before each step's clock for compute starts, and takes no
        # cores from the compute.
        cmd = [args.lits, "bench", "train", "--batch", str(batch), "--size", str(size), "--steps",
               str(args.steps), "--warmup", str(args.warmup), "--workers", "0"] + common
    else:
        cmd = [args.lits, "bench", "infer", "--batch", str(batch), "--size", str(size), "--repeats",
               str(args.steps)] + common
    _, rss = run_cmd(cmd, env=thread_env(args.threads), what=f"lits bench {kind}")
    with open(out) as f:
        j = json.load(f)
    if kind == "train":
        ms = j.get("compute_ms", j["forward_ms"] + j["backward_ms"] + j["comm_ms"] + j["optimizer_ms"])
    else:
        ms = j["ms_per_batch"]
    return {"ms": ms, "peak_bytes": j["peak_bytes"], "rss_bytes": rss}


def time_torch(args, case, info, work, variants):
    name, _, _, kind, batch, size = case
    spec = {"kind": kind, "batch": batch, "size": size, "steps": args.steps, "warmup": args.warmup,
            "threads": args.threads, "device": args.device, "variants": variants, "network": info["network"],
            "training": info["training"]}
    path = os.path.join(work, f"torch_{name}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    text, rss = run_cmd([sys.executable, os.path.abspath(__file__), "--child", path], env=thread_env(args.threads),
                        what="the PyTorch timing child")
    r = json.loads(text.strip().splitlines()[-1])
    r["rss_bytes"] = r.get("vmhwm_bytes") or rss  # its own reading at the end is exact; the sample is not
    return r


def mb(b):
    return "-" if b is None else f"{b / 1e6:,.0f}"


def run_timings(args, work, variants, rows, save):
    """Appends one row per case to `rows`, calling save() after each (a run cut short keeps its rows)."""
    infos = {}
    for case in CASES:
        name, what, setup, kind, batch, size = case
        if setup not in infos:
            infos[setup] = lits_info(args.lits, setup, args.base, 256)[0]
        lits_rounds, torch_rounds = [], []
        for r in range(args.rounds):
            lits_rounds.append(time_lits(args, case, work))
            torch_rounds.append(time_torch(args, case, infos[setup], work, variants))
            print(f"  {what}: round {r + 1}/{args.rounds}: lits {lits_rounds[-1]['ms']:.1f} ms, torch " +
                  ", ".join(f"{v} {t['ms']:.1f} ms" for v, t in torch_rounds[-1]["variants"].items() if "ms" in t),
                  flush=True)
        lits_ms = statistics.median(x["ms"] for x in lits_rounds)
        row = {"case": name, "what": what, "setup": setup, "kind": kind, "batch": batch, "size": size,
               "lits": {"ms": lits_ms, "rounds_ms": [x["ms"] for x in lits_rounds],
                        "peak_tensor_bytes": max(x["peak_bytes"] for x in lits_rounds),
                        "peak_rss_bytes": max(x["rss_bytes"] for x in lits_rounds)},
               "torch": {}}
        for v in variants:
            got = [t["variants"][v] for t in torch_rounds]
            if any("ms" not in g for g in got):
                row["torch"][v] = {"skipped": got[0].get("skipped", "no figure")}
                continue
            t_ms = statistics.median(g["ms"] for g in got)
            row["torch"][v] = {"ms": t_ms, "rounds_ms": [g["ms"] for g in got], "ratio": t_ms / lits_ms,
                               "peak_rss_bytes": max(t["rss_bytes"] for t in torch_rounds)}
            if args.device == "cuda":
                row["torch"][v]["peak_tensor_bytes"] = max(g["peak_bytes"] for g in got)
        rows.append(row)
        save()


def print_table(args, rows):
    gpu = args.device == "cuda"
    print()
    print(f"{'case':40s} {'torch variant':14s} {'lits ms':>10s} {'torch ms':>10s} {'ratio':>7s} "
          f"{'lits peak MB':>16s} {'torch peak MB':>14s}")
    for row in rows:
        lt = row["lits"]
        lits_peak = f"{mb(lt['peak_tensor_bytes'])} / {mb(lt['peak_rss_bytes'])}"
        for v, t in row["torch"].items():
            if "ms" not in t:
                print(f"{row['what']:40s} {v:14s} {lt['ms']:10.1f} {'-':>10s} {'-':>7s} {lits_peak:>16s} "
                      f"{'-':>14s}  ({t['skipped']})")
                continue
            torch_peak = mb(t["peak_tensor_bytes"]) if gpu else mb(t["peak_rss_bytes"])
            print(f"{row['what']:40s} {v:14s} {lt['ms']:10.1f} {t['ms']:10.1f} {t['ratio']:7.2f} {lits_peak:>16s} "
                  f"{torch_peak:>14s}")
    print(f"(medians of {args.rounds} alternating rounds, each the median of {args.steps} timed steps after "
          f"{args.warmup} warm-up; {args.threads} threads; ratio = torch ms / lits ms, > 1: lits is faster.\n"
          " lits train ms is the step's compute (forward + loss + backward + optimizer), without its data loader;"
          " PyTorch's step has no loader.\n"
          " lits peak MB: its tensors' peak / the process's peak RSS; torch peak MB: " +
          ("its CUDA tensors' peak (max_memory_allocated)" if gpu else "the child process's peak RSS (VmHWM)") +
          "; RSS includes the program, its libraries and, for PyTorch, the Python interpreter)")


# ---------------------------------------------------------------------------------------------------


def parse_args():
    class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass

    p = argparse.ArgumentParser(
        description=__doc__,
        epilog="Exit status: 0 when every check passed (and the timings ran), 1 when a check failed or a command "
        "failed, --skip-status when PyTorch (or its CUDA, for --device cuda) is missing.",
        formatter_class=Formatter)
    p.add_argument("--lits", default=os.environ.get("LITS", os.path.join(ROOT, "build", "tools", "lits")),
                   help="the lits command ($LITS, else build/tools/lits of this tree)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="where both sides run; cuda also times eager TF32, AMP bf16 channels_last and torch.compile")
    p.add_argument("--threads", type=int, default=2,
                   help="CPU threads of both sides (OMP_NUM_THREADS for lits, torch.set_num_threads for PyTorch)")
    p.add_argument("--rounds", type=int, default=3, help="alternating lits/PyTorch rounds per timing (median)")
    p.add_argument("--steps", type=int, default=3, help="timed steps (or inference passes) per round")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per round first")
    p.add_argument("--check-only", action="store_true",
                   help="only the parameter counts and the float64 forward parity, no timings")
    p.add_argument("--check-setups", default="Setup_Small_Liver.txt,Setup_Big_Liver.txt",
                   help="comma-separated setup files (paths, or names in models/presets/) to check; every run of each")
    p.add_argument("--base", default="", help="baseline file the setups merge onto ('': lits's default)")
    p.add_argument("--check-size", type=int, default=64, help="height and width of the checks' input")
    p.add_argument("--check-batch", type=int, default=2, help="batch of the checks' input")
    p.add_argument("--tolerance", type=float, default=1e-10, help="largest max abs difference the checks accept")
    p.add_argument("--json", default="compare_torch.json", help="write the results here ('' for none)")
    p.add_argument("--skip-status", type=int, default=0,
                   help="exit status when skipped for want of PyTorch or CUDA (ctest uses 77)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (inputs, outputs, weights)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.threads < 1 or args.rounds < 1 or args.steps < 1 or args.warmup < 0:
        p.error("--threads, --rounds and --steps must be >= 1, --warmup >= 0")
    return args


def main():
    args = parse_args()
    if args.child:
        return torch_child(args.child)
    try:
        import torch
    except ImportError as e:
        print(f"compare_torch: PyTorch not importable: skipped ({e}; {sys.executable})")
        return args.skip_status
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"compare_torch: no CUDA in this PyTorch: skipped (torch {torch.__version__})")
        return args.skip_status
    if not (os.path.isfile(args.lits) and os.access(args.lits, os.X_OK)):
        print(f"compare_torch: error: no lits command at '{args.lits}' (build it, or pass --lits)", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    results = {"tool": "tools/compare_torch.py", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "device": args.device,
               "threads": args.threads, "rounds": args.rounds, "steps": args.steps, "warmup": args.warmup,
               "torch_version": torch.__version__,
               "lits_version": run_cmd([args.lits, "--version"])[0].splitlines()[0],
               "checks": [], "timings": []}
    work = tempfile.mkdtemp(prefix="compare_torch_")
    status = 0

    def save(ok=None):
        if args.json:
            results["ok"] = ok
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)

    try:
        print(f"compare_torch: lits {args.lits} ({results['lits_version']}), PyTorch {torch.__version__}, "
              f"{args.device}, {args.threads} threads")
        for setup in [s for s in args.check_setups.split(",") if s]:
            results["checks"] += check_setup(args, setup, work)
            save()
        if not all(c["ok"] for c in results["checks"]):
            status = 1
            print("compare_torch: a check FAILED: no timings")
        elif not args.check_only:
            variants = TORCH_VARIANTS_CUDA if args.device == "cuda" else TORCH_VARIANTS_CPU
            print(f"timings: {args.rounds} rounds, lits and PyTorch alternating")
            run_timings(args, work, variants, results["timings"], save)
            print_table(args, results["timings"])
    except Failure as e:
        print(f"compare_torch: error: {e}", file=sys.stderr)
        status = 1
    finally:
        if args.keep:
            print(f"compare_torch: work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    save(status == 0)
    if args.json:
        print(f"compare_torch: results written to {args.json}")
    return status


if __name__ == "__main__":
    sys.exit(main())
