"""The lits-engine UNet in PyTorch, for tools/compare_torch.py: the network written from docs/models.md,
docs/reference.md sections 2 and 3 and models/unet.cpp, with the state-dict names of the lits checkpoints;
the losses of the timed training step; and the .npy and safetensors files lits reads and writes, without
numpy. torch is imported inside the functions, so that the comparison can report its absence."""
import array
import ast
import json
import math
import os
import struct
import sys

SLOPE = 0.05  # every activation of the network is LeakyReLU(0.05)


class Failure(Exception):
    """A check that failed or a command that did not run: reported, exit status 1."""


# ---------------------------------------------------------------------------------------------------
# Files: .npy and safetensors, without numpy


def _typed(torch):
    return {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
            "U8": torch.uint8}


def write_npy(path, t):
    import torch
    descr = {torch.float64: "<f8", torch.float32: "<f4"}[t.dtype]
    shape = tuple(t.shape)
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(shape))
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (pad % 64) + "\n"
    code = "d" if t.dtype == torch.float64 else "f"
    data = array.array(code, t.contiguous().reshape(-1).tolist())
    if sys.byteorder != "little":
        data.byteswap()
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(data.tobytes())


def read_npy(path):
    import torch
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:6] != b"\x93NUMPY" or blob[6] != 1:
        raise Failure(f"{path}: not an .npy file of format 1.x")
    n = struct.unpack("<H", blob[8:10])[0]
    header = ast.literal_eval(blob[10:10 + n].decode("latin1"))
    dtype = {"<f8": torch.float64, "<f4": torch.float32}.get(header["descr"])
    if dtype is None or header["fortran_order"]:
        raise Failure(f"{path}: dtype {header['descr']} / Fortran order (expected <f8 or <f4, C order)")
    data = bytearray(blob[10 + n:])
    count = math.prod(header["shape"])
    return torch.frombuffer(data, dtype=dtype, count=count).reshape(header["shape"]).clone()


def read_safetensors(path):
    """{name: tensor} of a safetensors file (the lits checkpoints' format)."""
    import torch
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = bytearray(os.path.getsize(path) - 8 - n)
        f.readinto(data)
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dtype = _typed(torch)[e["dtype"]]
        begin, end = e["data_offsets"]
        count = math.prod(e["shape"])
        if count == 0:
            out[name] = torch.empty(e["shape"], dtype=dtype)
            continue
        item = torch.empty((), dtype=dtype).element_size()
        if end - begin != count * item:
            raise Failure(f"{path}: tensor {name} has {end - begin} bytes for shape {e['shape']}")
        out[name] = torch.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(e["shape"])
    return out


def write_safetensors(path, tensors):
    """Writes {name: tensor} (float32/float64/int64) in the safetensors layout lits reads."""
    import torch
    names = {v: k for k, v in _typed(torch).items()}
    header, offset = {}, 0
    for name, t in tensors.items():
        size = t.numel() * t.element_size()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    data = bytearray(offset)
    for name, t in tensors.items():
        if t.numel():
            view = torch.frombuffer(data, dtype=t.dtype, count=t.numel(), offset=header[name]["data_offsets"][0])
            view.copy_(t.detach().cpu().reshape(-1))
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + bytes(data))


# ---------------------------------------------------------------------------------------------------
# The UNet in PyTorch, written from docs/models.md, docs/reference.md section 2 and models/unet.cpp


def build_unet(cfg):
    """The lits UNet of a resolved configuration (the "network" object of `lits info --json`)."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    def norm(channels, groups):
        if cfg["use_batchnorm"]:
            return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1)
        return nn.GroupNorm(groups, channels, eps=1e-5)

    def level_groups(c, base):
        return c if c < 2 * base else 2 * base

    class ResBlock(nn.Module):
        def __init__(self, cin, cout, dil):
            super().__init__()
            mid = cin // 4
            self.reduce = nn.Conv2d(cin, mid, 1)
            self.norm1 = norm(mid, mid // 4)
            self.mid = nn.Conv2d(mid, mid, 3, padding=dil, dilation=dil)
            self.norm2 = norm(mid, mid // 4)
            self.expand = nn.Conv2d(mid, cout, 1)

        def forward(self, x):
            h = F.leaky_relu(self.norm1(self.reduce(x)), SLOPE)
            h = F.leaky_relu(self.norm2(self.mid(h)), SLOPE)
            return self.expand(h)

    class SqueezeExcitation(nn.Module):
        def __init__(self, channels, ratio):
            super().__init__()
            hidden = int(channels * ratio)
            self.fc1 = nn.Linear(channels, hidden)
            self.fc2 = nn.Linear(hidden, channels)

        def forward(self, x):
            s = torch.sigmoid(self.fc2(F.leaky_relu(self.fc1(x.mean((2, 3))), SLOPE)))
            return x * s[:, :, None, None]

    class ConvStage(nn.Module):
        """One level's repetitions: Norm -> Conv (or ResBlock) -> [+ skips] -> LeakyReLU -> Dropout2d."""

        def __init__(self, cin, cout, reps, dil, group_base, adjust):
            super().__init__()
            self.dense = cfg["backbone"] == "dense_residual"
            self.norm = nn.ModuleList()
            self.conv = nn.ModuleList()
            for r in range(reps):
                c = cin if r == 0 else cout
                self.norm.append(norm(c, level_groups(c, group_base)))
                if cfg["block_type"] == "res":
                    self.conv.append(ResBlock(c, cout, dil))
                else:
                    self.conv.append(nn.Conv2d(c, cout, 3, padding=dil, dilation=dil))
            self.adjust = nn.Conv2d(cin, cout, 1) if adjust else None
            self.drop = nn.Dropout2d(cfg["dropout"]) if cfg["dropout"] > 0 else None
            self.se = SqueezeExcitation(cout, cfg["se_reduction"]) if cfg["se_reduction"] > 0 else None

        def forward(self, x):
            skip_sum = None
            for r in range(len(self.conv)):
                n = self.norm[r](x)
                y = self.conv[r](n)
                if self.adjust is not None:  # skips add only where the level has an adjust conv
                    s = self.adjust(n) if r == 0 else n  # the normalised input, not the raw one
                    skip_sum = skip_sum + s if (skip_sum is not None and self.dense) else s
                    y = y + skip_sum
                x = F.leaky_relu(y, SLOPE)
                if self.drop is not None:
                    x = self.drop(x)
            return self.se(x) if self.se is not None else x

    class NearestUp(nn.Module):
        """up_conv_type []: nearest x2, then a 1x1 conv whose weight and bias sit on this module."""

        def __init__(self, cin, cout):
            super().__init__()
            conv = nn.Conv2d(cin, cout, 1)
            self.weight, self.bias = conv.weight, conv.bias

        def forward(self, x):
            return F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), self.weight, self.bias)

    class Input(nn.Module):
        def __init__(self, cin, f):
            super().__init__()
            self.conv = nn.Conv2d(cin, f, 3, padding=1)
            self.norm = norm(f, f)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            L, Fs, Fu, K = len(cfg["structure"]), cfg["filter_start"], cfg["filter_start_up"], cfg["num_out_classes"]
            self.levels, self.K = L, K
            residual = cfg["backbone"] != "base"
            self.input = Input(cfg["channels"], Fs)
            self.enc = nn.ModuleList()
            self.maxpool = None if cfg["use_conv_pool"] else nn.MaxPool2d(3, 2, 1)
            for i in range(L):
                fin, fout = Fs * 2 ** i, Fs * 2 ** (i + 1)
                stage = ConvStage(fin, fout, cfg["structure"][i], cfg["dilation"][i], Fs, residual and fin != fout)
                if cfg["use_conv_pool"]:
                    stage.pool = nn.Conv2d(fout, fout, 3, stride=2, padding=1)
                self.enc.append(stage)
            self.dec = nn.ModuleList()
            for j in range(L - 1):
                cin = Fs * 2 ** L if j == 0 else Fu * 2 ** (L - j)
                cout, skip = Fu * 2 ** (L - 1 - j), Fs * 2 ** (L - 1 - j)
                # The reference's decoder indexing: level j takes entry L-1-j of structure_up / dilation_up.
                stage = ConvStage(cout + skip, cout, cfg["structure_up"][L - 1 - j], cfg["dilation_up"][L - 1 - j],
                                  Fu, residual and cin != cout)
                if cfg["up_conv_type"]:
                    k, s, p = cfg["up_conv_type"]
                    stage.up = nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p)
                else:
                    stage.up = NearestUp(cin, cout)
                self.dec.append(stage)
            self.pypool = nn.ModuleList()
            if cfg["use_pypool"]:
                for j in range(L - 1):
                    width = Fs * 2 ** L if j == 0 else Fu * 2 ** (L - j)
                    self.pypool.append(nn.ConvTranspose2d(width, 1, 2 ** (L - j), stride=2 ** (L - 1 - j),
                                                          padding=2 ** (L - 2 - j)))
            self.aux = nn.ModuleList()
            if cfg["use_auxiliary_inputs"]:
                for j in range(L - 1):
                    self.aux.append(nn.Conv2d(Fs * 2 ** L if j == 0 else Fu * 2 ** (L - j), K, 1))
            self.output = nn.Conv2d(2 * Fu + (L - 1 if cfg["use_pypool"] else 0), K, 1)

        def head(self, z):
            if cfg["output_logits"]:
                return z
            return torch.softmax(z, 1) if self.K > 1 else torch.sigmoid(z)

        def forward(self, inp):
            """(output, aux list finest first; empty in eval mode)."""
            L = self.levels
            x = F.leaky_relu(self.input.norm(self.input.conv(inp)), SLOPE)
            skips = []
            for i in range(L):
                level = self.enc[i](x)
                # Computed at the bottleneck too and discarded there, as lits and the reference do.
                pooled = self.enc[i].pool(level) if self.maxpool is None else self.maxpool(level)
                if i + 1 < L:
                    skips.append(level)
                    x = pooled
                else:
                    x = level
            pp, aux = [x], []
            for j in range(L - 1):
                if len(self.aux) and self.training:
                    aux.append(self.head(self.aux[j](x)))
                x = self.dec[j](torch.cat([self.dec[j].up(x), skips[L - 2 - j]], 1))
                if len(self.pypool) and j + 2 < L:
                    pp.append(x)
            if len(self.pypool):
                x = torch.cat([x] + [self.pypool[j](pp[j]) for j in range(len(self.pypool))], 1)
            return self.head(self.output(x)), aux[::-1]

    return UNet()


def model_state(net):
    """Parameters and buffers under the lits names (PyTorch's num_batches_tracked has no lits twin)."""
    return {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}


def load_lits_weights(net, path):
    """Loads the model.<name> tensors of a lits safetensors file; every name must match both ways."""
    import torch
    weights = {k[6:]: v for k, v in read_safetensors(path).items() if k.startswith("model.")}
    mine = model_state(net)
    missing, extra = sorted(set(mine) - set(weights)), sorted(set(weights) - set(mine))
    if missing or extra:
        raise Failure(f"{path}: names differ from the PyTorch network: missing {missing[:5]}, extra {extra[:5]}")
    with torch.no_grad():
        for k, t in mine.items():
            if tuple(weights[k].shape) != tuple(t.shape):
                raise Failure(f"{path}: {k} is {tuple(weights[k].shape)}, the PyTorch network's {tuple(t.shape)}")
            t.copy_(weights[k])


# ---------------------------------------------------------------------------------------------------
# Losses (docs/reference.md section 3) for the timed training step


def make_loss(train):
    import torch
    import torch.nn.functional as F
    name = train["loss_func"]
    alpha = float(train.get("wmap_weight", 0))
    eps = float(train.get("epsilon", 1e-6))

    def pwce(x, y, w, cw):  # cross-entropy applied to x (probabilities: the reference's double softmax)
        ce = F.cross_entropy(x, y, weight=cw, reduction="none")
        return (ce * (1 + w) ** alpha).mean() if (w is not None and alpha != 0) else ce.mean()

    def dice(p, y, ws):
        t = F.one_hot(y, p.shape[1]).permute(0, 3, 1, 2).to(p.dtype)
        i, u = (p * t).sum((2, 3)), p.sum((2, 3)) + t.sum((2, 3)) + eps
        return -(2 * ws * i / u).mean(1).mean()

    def loss(out, y, w):
        cw = torch.tensor([float(v) for v in train.get("class_weights") or [1] * out.shape[1]], dtype=out.dtype,
                          device=out.device)
        ws = torch.tensor([float(v) for v in train.get("weight_score") or [1] * out.shape[1]], dtype=out.dtype,
                          device=out.device)
        if name in ("multiclass_pwce", "cross_entropy"):
            return pwce(out, y, w, cw)
        if name == "multiclass_dice":
            return dice(out, y, ws)
        if name == "multiclass_combined":
            return pwce(out, y, w, cw) / -dice(out, y, ws)
        raise Failure(f"loss_func '{name}' is not implemented in compare_torch.py "
                      "(multiclass_pwce, multiclass_dice, multiclass_combined, cross_entropy are)")

    def total(out, aux, y, w):
        # Deep supervision: aux[k] at 1/2^(k+1), targets sampled at pixel [s i + s/2, s j + s/2], weight 1/(k+1).
        value = loss(out.float(), y, w)
        for k, a in enumerate(aux):
            s = 2 << k
            value = value + loss(a.float(), y[:, s // 2::s, s // 2::s],
                                 None if w is None else w[:, s // 2::s, s // 2::s]) / (k + 1)
        return value

    return total
