#!/usr/bin/env python3
"""GPU benchmark of parrot's selective-scan kernels (cuda-kernels/scan.cu) against PyTorch and parrot's attention.

Needs an NVIDIA GPU, PyTorch with CUDA (written against 2.11) and parrot's PTX (`make kernels`). The kernels are
launched through the CUDA driver API with ctypes (libcuda.so.1) into PyTorch's own context and stream, on PyTorch
tensors, exactly as parrot's Java launchers do (ScanKernels.java, AttentionKernels.java): same kernels, same launch
shapes, same scratch partials.

    python3 scripts/bench_scan.py --json results/bench_scan.json
    python3 scripts/bench_scan.py --lengths 256,2048 --iters 5 --jar dist/parrot-0.1.0/lib/parrot.jar

What it measures, per sequence length L (batch B, d_inner D, d_state N; Mamba's real-A, time-varying B and C
scan with D, z, delta_bias and softplus — selective_scan_ref's arguments):
  parrot              forward (out + checkpoints), backward (all gradients, reduce kernels included), both
  torch_ref           mamba_ssm's selective_scan_ref math (exp(δA) and δBu materialised, a Python loop over L),
                      forward with autograd and backward
  torch_compile_step  the same loop with its per-step update torch.compile'd (one fused kernel a step)
  torch_compile_full  torch.compile of the whole reference, only up to --compile-full-max-len (the loop unrolls)
  attention           parrot's causal attention kernels (warp per query row) at the same L, forward and backward,
                      with H heads of hd (default 16 × 64: a d_model-1024 transformer layer next to the
                      d_inner-2048 Mamba layer) — skipped with a note if attention.cu's signatures changed
and the scan's achieved bytes/s against the device's measured copy bandwidth (torch copy_ of 1 GiB): "compulsory"
bytes are what any implementation must move (inputs read once, outputs written once, accumulated gradients read
and written), "with_scratch" adds parrot's partial-sum buffers. The L=2048 summary gives the forward+backward time
ratios. Before timing, parrot's kernels are checked against the float64 reference on a small problem; a failed
check exits 1 (timings are still written). Without CUDA: exit 2. --cpu-selftest checks the script's own
reference and layout plumbing on the CPU (no GPU, no PTX).
"""

import argparse
import ctypes
import glob
import json
import math
import os
import platform
import re
import sys
import time
import zipfile

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Launch constants, as in ScanKernels.java / scan.cu and AttentionKernels.java / attention.cu.
SCAN_CHUNK, SCAN_LANES, SCAN_WARPS, SCAN_MAX_STATE = 64, 32, 8, 64
EW_THREADS, EW_MAX_BLOCKS = 256, 8192
ATT_WARPS, MAX_HEADS = 4, 64

SCAN_SIGNATURES = {
    "parrot_scan_forward_f32": "ppppppppppiiiii",
    "parrot_scan_backward_f32": "ppppppppppppppppppiiiii",
    "parrot_scan_reduce_bc_f32": "ppppiii",
    "parrot_scan_reduce_params_f32": "ppppppiii",
}
ATT_SIGNATURES = {
    "parrot_attention_forward_f32": "pppiiiifs[512]",
    "parrot_attention_backward_pre_f32": "pppiiii",
    "parrot_attention_backward_dq_f32": "pppppiiiifs[512]",
    "parrot_attention_backward_dkv_f32": "pppppiiiifs[512]",
}


# ---- PTX ------------------------------------------------------------------------------------------------------------

def entry_signatures(ptx):
    """{kernel: 'ppi…'} from a PTX text (p .u64, i .u32/.s32, f .f32, d .f64, s[N] a .b8 array), as PtxResources."""
    sigs = {}
    for m in re.finditer(r"\.entry\s+(\w+)\s*\(([^)]*)\)", ptx):
        out = []
        for line in m.group(2).split(","):
            line = line.strip()
            if not line:
                continue
            arr = re.search(r"\.b8\s+\w+\[(\d+)\]", line)
            if arr:
                out.append("s[%s]" % arr.group(1))
            elif ".u64" in line or ".s64" in line or ".b64" in line:
                out.append("p")
            elif ".f64" in line:
                out.append("d")
            elif ".f32" in line:
                out.append("f")
            else:
                out.append("i")
        sigs[m.group(1)] = "".join(out)
    return sigs


def find_ptx(arch, family, ptx_dir=None, jar=None):
    """(text, where) of <family>.ptx for arch: --ptx-dir, build/ptx-resources, then a jar (--jar, target/, dist/)."""
    dirs = [ptx_dir] if ptx_dir else []
    dirs.append(os.path.join(ROOT, "build", "ptx-resources", "parrot", "ptx"))
    for d in dirs:
        for p in (os.path.join(d, arch, family + ".ptx"), os.path.join(d, family + ".ptx")):
            if os.path.isfile(p):
                with open(p, "r") as f:
                    return f.read(), p
    jars = [jar] if jar else []
    jars += [os.path.join(ROOT, "target", "parrot.jar")] + sorted(glob.glob(os.path.join(ROOT, "dist", "*", "lib", "parrot.jar")))
    for j in jars:
        if j and os.path.isfile(j):
            with zipfile.ZipFile(j) as z:
                name = "parrot/ptx/%s/%s.ptx" % (arch, family)
                if name in z.namelist():
                    return z.read(name).decode(), j + "!/" + name
    raise FileNotFoundError("no %s/%s.ptx: run `make kernels`, or pass --ptx-dir or --jar" % (arch, family))


# ---- the CUDA driver through ctypes ---------------------------------------------------------------------------------

class HeadParams(ctypes.Structure):
    _fields_ = [("window", ctypes.c_int * MAX_HEADS), ("slope", ctypes.c_float * MAX_HEADS)]


class Driver:
    """Just enough of libcuda to load PTX into PyTorch's current context and launch on its current stream."""

    def __init__(self):
        self.lib = ctypes.CDLL("libcuda.so.1")
        L = self.lib
        L.cuGetErrorName.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        L.cuCtxGetCurrent.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        L.cuModuleLoadData.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
        L.cuModuleGetFunction.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_char_p]
        L.cuModuleUnload.argtypes = [ctypes.c_void_p]
        L.cuLaunchKernel.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 7 + [ctypes.c_void_p,
                                                                               ctypes.POINTER(ctypes.c_void_p),
                                                                               ctypes.c_void_p]
        self.modules = []
        ctx = ctypes.c_void_p()
        self.check(L.cuCtxGetCurrent(ctypes.byref(ctx)), "cuCtxGetCurrent")
        if not ctx.value:
            raise RuntimeError("no current CUDA context (PyTorch should have made its primary context current)")

    def check(self, rc, what):
        if rc != 0:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(rc, ctypes.byref(name))
            raise RuntimeError("%s failed: %s (%d)" % (what, name.value.decode() if name.value else "?", rc))

    def load(self, ptx):
        mod = ctypes.c_void_p()
        self.check(self.lib.cuModuleLoadData(ctypes.byref(mod), ptx.encode() + b"\0"), "cuModuleLoadData")
        self.modules.append(mod)
        return mod

    def function(self, mod, name):
        fn = ctypes.c_void_p()
        self.check(self.lib.cuModuleGetFunction(ctypes.byref(fn), mod, name.encode()), "cuModuleGetFunction " + name)
        return fn

    def launch(self, fn, grid, block, args, what):
        """args: ctypes values in parameter order (c_void_p for pointers)."""
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        params = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.pointer(a), ctypes.c_void_p) for a in args])
        stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
        self.check(self.lib.cuLaunchKernel(fn, *grid, *block, 0, stream, params, None), "launching " + what)

    def close(self):
        for m in self.modules:
            self.lib.cuModuleUnload(m)
        self.modules = []


def ptr(t):
    return ctypes.c_void_p(0 if t is None else t.data_ptr())


def ew_grid(n):
    return (max(1, min(EW_MAX_BLOCKS, (n + EW_THREADS - 1) // EW_THREADS)),)


# ---- parrot's scan, launched as ScanKernels.java does ---------------------------------------------------------------

class ParrotScan:
    def __init__(self, drv, ptx):
        self.drv = drv
        sigs = entry_signatures(ptx)
        for k, want in SCAN_SIGNATURES.items():
            if sigs.get(k) != want:
                raise RuntimeError("scan.ptx: %s takes (%s), this script launches (%s)" % (k, sigs.get(k), want))
        mod = drv.load(ptx)
        self.fn = {k: drv.function(mod, k) for k in SCAN_SIGNATURES}

    @staticmethod
    def chunks(L):
        return (L + SCAN_CHUNK - 1) // SCAN_CHUNK

    def forward(self, p, out, ckpt):
        b, L, d, n = p["B"], p["L"], p["D"], p["N"]
        self.drv.launch(self.fn["parrot_scan_forward_f32"], ((d + SCAN_LANES - 1) // SCAN_LANES, b), (SCAN_LANES, SCAN_WARPS),
                        [ptr(out), ptr(ckpt), ptr(p["u"]), ptr(p["delta"]), ptr(p["A"]), ptr(p["Bm"]), ptr(p["Cm"]),
                         ptr(p["Dskip"]), ptr(p["z"]), ptr(p["bias"]), ctypes.c_int(1), ctypes.c_int(b),
                         ctypes.c_int(L), ctypes.c_int(d), ctypes.c_int(n)], "parrot_scan_forward_f32")

    def scratch(self, p):
        b, L, d, n = p["B"], p["L"], p["D"], p["N"]
        nb, rows = (d + SCAN_LANES - 1) // SCAN_LANES, b * L
        f = dict(device="cuda", dtype=torch.float32)
        return {"pB": torch.empty(nb * rows * n, **f), "pC": torch.empty(nb * rows * n, **f),
                "pA": torch.empty(b * SCAN_WARPS * n * d, **f), "pD": torch.empty(b * SCAN_WARPS * d, **f),
                "pBias": torch.empty(b * SCAN_WARPS * d, **f)}

    def backward(self, p, ckpt, dout, g, s):
        """Accumulates into g['du'], ['ddelta'], ['dA'], ['dB'], ['dC'], ['dD'], ['dz'], ['dbias']."""
        b, L, d, n = p["B"], p["L"], p["D"], p["N"]
        nb, rows = (d + SCAN_LANES - 1) // SCAN_LANES, b * L
        self.drv.launch(self.fn["parrot_scan_backward_f32"], (nb, b), (SCAN_LANES, SCAN_WARPS),
                        [ptr(g["du"]), ptr(g["ddelta"]), ptr(g["dz"]), ptr(s["pB"]), ptr(s["pC"]), ptr(s["pA"]),
                         ptr(s["pD"]), ptr(s["pBias"]), ptr(dout), ptr(ckpt), ptr(p["u"]), ptr(p["delta"]), ptr(p["A"]),
                         ptr(p["Bm"]), ptr(p["Cm"]), ptr(p["Dskip"]), ptr(p["z"]), ptr(p["bias"]), ctypes.c_int(1),
                         ctypes.c_int(b), ctypes.c_int(L), ctypes.c_int(d), ctypes.c_int(n)], "parrot_scan_backward_f32")
        self.drv.launch(self.fn["parrot_scan_reduce_bc_f32"], ew_grid(rows * n), (EW_THREADS,),
                        [ptr(g["dB"]), ptr(g["dC"]), ptr(s["pB"]), ptr(s["pC"]), ctypes.c_int(nb), ctypes.c_int(rows),
                         ctypes.c_int(n)], "parrot_scan_reduce_bc_f32")
        self.drv.launch(self.fn["parrot_scan_reduce_params_f32"], ew_grid(d * n), (EW_THREADS,),
                        [ptr(g["dA"]), ptr(g["dD"]), ptr(g["dbias"]), ptr(s["pA"]), ptr(s["pD"]), ptr(s["pBias"]),
                         ctypes.c_int(b), ctypes.c_int(d), ctypes.c_int(n)], "parrot_scan_reduce_params_f32")


class ParrotAttention:
    def __init__(self, drv, ptx):
        self.drv = drv
        sigs = entry_signatures(ptx)
        for k, want in ATT_SIGNATURES.items():
            if sigs.get(k) != want:
                raise RuntimeError("attention.ptx: %s takes (%s), this script launches (%s) — attention.cu changed; "
                                   "update ParrotAttention" % (k, sigs.get(k), want))
        mod = drv.load(ptx)
        self.fn = {k: drv.function(mod, k) for k in ATT_SIGNATURES}

    def run(self, qkv, out, lse, dout, dqkv, D, b, L, h, hd, backward):
        rows = b * h * L
        grid, block = ((rows + ATT_WARPS - 1) // ATT_WARPS,), (32, ATT_WARPS)
        hp = HeadParams()                     # plain causal (NoPE): windows 0, slopes 0
        scale = ctypes.c_float(1.0 / math.sqrt(hd))
        dims = [ctypes.c_int(b), ctypes.c_int(L), ctypes.c_int(h), ctypes.c_int(hd)]
        if not backward:
            self.drv.launch(self.fn["parrot_attention_forward_f32"], grid, block,
                            [ptr(out), ptr(lse), ptr(qkv)] + dims + [scale, hp], "parrot_attention_forward_f32")
            return
        self.drv.launch(self.fn["parrot_attention_backward_pre_f32"], grid, block, [ptr(D), ptr(dout), ptr(out)] + dims,
                        "parrot_attention_backward_pre_f32")
        for k in ("parrot_attention_backward_dq_f32", "parrot_attention_backward_dkv_f32"):
            self.drv.launch(self.fn[k], grid, block, [ptr(dqkv), ptr(dout), ptr(qkv), ptr(lse), ptr(D)] + dims + [scale, hp], k)


# ---- problems and the PyTorch reference -----------------------------------------------------------------------------

def make_problem(b, L, d, n, device, seed=0):
    """Inputs in parrot's layout: u, delta, z [B·L, D]; B, C [B·L, N]; A [D, N]; D, delta_bias [D]."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)
    p = {"B": b, "L": L, "D": d, "N": n,
         "u": r(b * L, d), "delta": r(b * L, d) - 1.0, "z": r(b * L, d), "Bm": r(b * L, n), "Cm": r(b * L, n),
         "A": -(0.1 + 1.9 * torch.rand(d, n, generator=g)), "Dskip": r(d), "bias": 0.5 * r(d)}
    for k, v in list(p.items()):
        if torch.is_tensor(v):
            p[k] = v.to(device=device, dtype=torch.float32).contiguous()
    return p


def to_ref_layout(p, dtype):
    """selective_scan_ref's layout: u, delta, z [b, d, l]; B, C [b, n, l]."""
    b, L, d, n = p["B"], p["L"], p["D"], p["N"]
    bdl = lambda t: t.view(b, L, -1).transpose(1, 2).contiguous().to(dtype)
    return {"u": bdl(p["u"]), "delta": bdl(p["delta"]), "z": bdl(p["z"]), "Bm": bdl(p["Bm"]), "Cm": bdl(p["Cm"]),
            "A": p["A"].to(dtype).clone(), "Dskip": p["Dskip"].to(dtype).clone(), "bias": p["bias"].to(dtype).clone()}


def from_ref_layout(t, b, L):
    """[b, c, l] → parrot's [b·l, c]."""
    return t.transpose(1, 2).reshape(b * L, -1)


def selective_scan_ref(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False, step=None):
    """mamba_ssm.ops.selective_scan_interface.selective_scan_ref for real A and B, C of shape [b, n, l]."""
    if delta_bias is not None:
        delta = delta + delta_bias[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    batch, dim, dstate = u.shape[0], A.shape[0], A.shape[1]
    x = A.new_zeros((batch, dim, dstate))
    ys = []
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    for i in range(u.shape[2]):
        if step is None:
            x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
            y = torch.einsum("bdn,bn->bd", x, C[:, :, i])
        else:
            x, y = step(x, deltaA[:, :, i], deltaB_u[:, :, i], C[:, :, i])
        ys.append(y)
    y = torch.stack(ys, dim=2)
    out = y if D is None else y + u * D[:, None]
    if z is not None:
        out = out * F.silu(z)
    return out


def scan_step(x, dA, dBu, c):
    x = dA * x + dBu
    return x, (x * c[:, None, :]).sum(-1)


def ref_call(r, fn=selective_scan_ref, **kw):
    return fn(r["u"], r["delta"], r["A"], r["Bm"], r["Cm"], r["Dskip"], r["z"], r["bias"], True, **kw)


def ref_grads(p, dout, dtype=torch.float64):
    """Output and gradients of the reference, in parrot's layout."""
    b, L = p["B"], p["L"]
    r = to_ref_layout(p, dtype)
    for v in r.values():
        v.requires_grad_(True)
    out = ref_call(r)
    out.backward(from_ref_dout(dout, b, L).to(dtype))
    g = {"out": from_ref_layout(out.detach(), b, L), "du": from_ref_layout(r["u"].grad, b, L),
         "ddelta": from_ref_layout(r["delta"].grad, b, L), "dz": from_ref_layout(r["z"].grad, b, L),
         "dB": from_ref_layout(r["Bm"].grad, b, L), "dC": from_ref_layout(r["Cm"].grad, b, L), "dA": r["A"].grad,
         "dD": r["Dskip"].grad, "dbias": r["bias"].grad}
    return g


def from_ref_dout(dout, b, L):
    """parrot's [b·l, d] → [b, d, l]."""
    return dout.view(b, L, -1).transpose(1, 2).contiguous()


def naive_parrot_layout(p):
    """The Backend#scanForward formulas, loop by loop, in float64 on the CPU (for --cpu-selftest)."""
    b, L, d, n = p["B"], p["L"], p["D"], p["N"]
    P = {k: (v.double().cpu() if torch.is_tensor(v) else v) for k, v in p.items()}
    out = torch.zeros(b * L, d, dtype=torch.float64)
    for bb in range(b):
        for ch in range(d):
            h = [0.0] * n
            for t in range(L):
                row = bb * L + t
                dl = float(P["delta"][row, ch] + P["bias"][ch])
                dl = dl if dl > 20 else math.log1p(math.exp(dl))
                uu = float(P["u"][row, ch])
                y = 0.0
                for s in range(n):
                    h[s] = math.exp(dl * float(P["A"][ch, s])) * h[s] + dl * float(P["Bm"][row, s]) * uu
                    y += float(P["Cm"][row, s]) * h[s]
                y += float(P["Dskip"][ch]) * uu
                zz = float(P["z"][row, ch])
                out[row, ch] = y * zz / (1 + math.exp(-zz))
    return out


def rel_err(ref, got):
    ref, got = ref.double().cpu(), got.double().cpu()
    scale = max(ref.abs().max().item(), 1e-12)
    err = (got - ref).abs().max().item()
    return float("inf") if not math.isfinite(err) else err / scale


# ---- timing -----------------------------------------------------------------------------------------------------------

def timed(fn, warmup, iters):
    """Median milliseconds of fn() on the current stream (CUDA events)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def copy_bandwidth(gib=1.0, iters=10):
    n = int(gib * (1 << 30)) // 4
    src = torch.empty(n, device="cuda", dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    ms = timed(lambda: dst.copy_(src), 3, iters)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n * 4 / (ms * 1e-3) / 1e9


def scan_bytes(b, L, d, n):
    """Bytes each pass must move (compulsory) and what parrot's partial buffers add (scratch)."""
    f = 4
    rows, nc, nb = b * L, (L + SCAN_CHUNK - 1) // SCAN_CHUNK, (d + SCAN_LANES - 1) // SCAN_LANES
    params = (2 * d * n + 2 * d) * f
    fwd = (3 * rows * d + rows * d + 2 * rows * n + b * nc * d * n) * f + params
    # read dout, u, δ, z, B, C, checkpoints; read+write du, dδ, dz (accumulated) and dB, dC, dA, D, bias
    bwd = (4 * rows * d + 2 * rows * n + b * nc * d * n + 2 * 3 * rows * d + 2 * 2 * rows * n) * f + 2 * params
    scratch = (2 * 2 * nb * rows * n + 2 * b * SCAN_WARPS * n * d * nc + 4 * b * SCAN_WARPS * d) * f
    return fwd, bwd, scratch


# ---- the benchmark ------------------------------------------------------------------------------------------------

def grads_like(p, dev):
    f = dict(device=dev, dtype=torch.float32)
    rows, d, n = p["B"] * p["L"], p["D"], p["N"]
    return {"du": torch.zeros(rows, d, **f), "ddelta": torch.zeros(rows, d, **f), "dz": torch.zeros(rows, d, **f),
            "dB": torch.zeros(rows, n, **f), "dC": torch.zeros(rows, n, **f), "dA": torch.zeros(d, n, **f),
            "dD": torch.zeros(d, **f), "dbias": torch.zeros(d, **f)}


def check_parrot(scan, args):
    """parrot's forward and backward (checkpoints included) against the float64 reference on a small problem."""
    b, L, d, n = 2, 300, 80, args.d_state
    p = make_problem(b, L, d, n, "cuda", seed=1)
    out = torch.full((b * L, d), float("nan"), device="cuda")
    ckpt = torch.full((b, scan.chunks(L), d, n), float("nan"), device="cuda")
    scan.forward(p, out, ckpt)
    dout = torch.randn(b * L, d, device="cuda", generator=torch.Generator(device="cuda").manual_seed(2))
    g = grads_like(p, "cuda")
    scan.backward(p, ckpt, dout, g, scan.scratch(p))
    torch.cuda.synchronize()
    ref = ref_grads(p, dout.double())
    # the checkpoints: the reference's states at chunk boundaries (recomputed in float64 by stepping)
    errs = {"out": rel_err(ref["out"], out)}
    for k in ("du", "ddelta", "dz", "dB", "dC", "dA", "dD", "dbias"):
        errs[k] = rel_err(ref[k], g[k])
    r = to_ref_layout(p, torch.float64)
    states = _states_at_chunks(r, b, L, d, n)
    errs["checkpoints"] = rel_err(states, ckpt)
    worst = max(errs.values())
    return {"shape": {"B": b, "L": L, "D": d, "N": n}, "max_rel_err": errs, "tolerance": 1e-4, "passed": worst <= 1e-4}


def _states_at_chunks(r, b, L, d, n):
    delta = F.softplus(r["delta"] + r["bias"][..., None])
    x = torch.zeros(b, d, n, dtype=torch.float64, device=r["u"].device)
    nc = (L + SCAN_CHUNK - 1) // SCAN_CHUNK
    out = torch.zeros(b, nc, d, n, dtype=torch.float64, device=r["u"].device)
    for t in range(L):
        if t % SCAN_CHUNK == 0:
            out[:, t // SCAN_CHUNK] = x
        dA = torch.exp(delta[:, :, t, None] * r["A"])
        x = dA * x + (delta[:, :, t] * r["u"][:, :, t])[..., None] * r["Bm"][:, None, :, t]
    return out


def bench_length(L, args, scan, att, bw, compiled_step):
    b, d, n = args.batch, args.d_inner, args.d_state
    res = {"L": L}
    p = make_problem(b, L, d, n, "cuda", seed=L)
    fwd_bytes, bwd_bytes, scratch_bytes = scan_bytes(b, L, d, n)
    # parrot
    try:
        out = torch.empty(b * L, d, device="cuda")
        ckpt = torch.empty(b, scan.chunks(L), d, n, device="cuda")
        dout = torch.randn(b * L, d, device="cuda")
        g, s = grads_like(p, "cuda"), scan.scratch(p)
        f_ms = timed(lambda: scan.forward(p, out, ckpt), args.warmup, args.iters)
        b_ms = timed(lambda: scan.backward(p, ckpt, dout, g, s), args.warmup, args.iters)
        fb_ms = timed(lambda: (scan.forward(p, out, ckpt), scan.backward(p, ckpt, dout, g, s)), args.warmup, args.iters)
        res["parrot"] = {"fwd_ms": f_ms, "bwd_ms": b_ms, "fwd_bwd_ms": fb_ms,
                         "fwd_gbs": fwd_bytes / (f_ms * 1e-3) / 1e9, "bwd_gbs": bwd_bytes / (b_ms * 1e-3) / 1e9,
                         "bwd_gbs_with_scratch": (bwd_bytes + scratch_bytes) / (b_ms * 1e-3) / 1e9}
        res["parrot"]["fwd_fraction_of_copy_bw"] = res["parrot"]["fwd_gbs"] / bw
        res["parrot"]["bwd_fraction_of_copy_bw"] = res["parrot"]["bwd_gbs"] / bw
        res["parrot"]["bwd_with_scratch_fraction_of_copy_bw"] = res["parrot"]["bwd_gbs_with_scratch"] / bw
        res["bytes"] = {"fwd_compulsory": fwd_bytes, "bwd_compulsory": bwd_bytes, "bwd_scratch": scratch_bytes}
        del out, ckpt, g, s
    except Exception as e:  # noqa: BLE001 — every component reports its own failure
        res["parrot"] = {"error": repr(e)}
    # PyTorch: the reference loop, its compiled step, the compiled whole
    variants = [("torch_ref", {}, True)]
    if compiled_step is not None:
        variants.append(("torch_compile_step", {"step": compiled_step}, True))
    if args.compile_full_max_len > 0:
        variants.append(("torch_compile_full", None, L <= args.compile_full_max_len))
    for name, kw, enabled in variants:
        if not enabled:
            res[name] = {"skipped": "L > --compile-full-max-len %d (the loop unrolls into the graph)" % args.compile_full_max_len}
            continue
        try:
            r = to_ref_layout(p, torch.float32)
            for v in r.values():
                v.requires_grad_(True)
            dref = from_ref_dout(torch.randn(b * L, d, device="cuda"), b, L)
            entry = {}
            if kw is None:
                fn = torch.compile(selective_scan_ref)
                t0 = time.perf_counter()
                fn(r["u"], r["delta"], r["A"], r["Bm"], r["Cm"], r["Dskip"], r["z"], r["bias"], True).backward(dref)
                torch.cuda.synchronize()
                entry["compile_s"] = time.perf_counter() - t0
                call = lambda: fn(r["u"], r["delta"], r["A"], r["Bm"], r["Cm"], r["Dskip"], r["z"], r["bias"], True)
            else:
                call = lambda: ref_call(r, **kw)
            holder = {}
            iters = max(1, args.torch_iters)
            entry["fwd_ms"] = timed(lambda: holder.__setitem__("o", call()), 1, iters)
            def fwd_bwd():
                call().backward(dref)
            entry["fwd_bwd_ms"] = timed(fwd_bwd, 1, iters)
            entry["bwd_ms"] = entry["fwd_bwd_ms"] - entry["fwd_ms"]
            res[name] = entry
            del r, holder
        except Exception as e:  # noqa: BLE001
            res[name] = {"error": repr(e)[:500]}
        torch.cuda.empty_cache()
    # parrot attention at the same L
    if att is None:
        res["attention"] = {"skipped": args.attention_skip_reason}
    else:
        try:
            h, hd = args.heads, args.head_dim
            qkv = torch.randn(b * L, 3 * h * hd, device="cuda")
            aout, lse = torch.empty(b * L, h * hd, device="cuda"), torch.empty(b, h, L, device="cuda")
            adout, dqkv, Dp = torch.randn(b * L, h * hd, device="cuda"), torch.zeros_like(qkv), torch.empty(b * h * L, device="cuda")
            run = lambda bwd: att.run(qkv, aout, lse, adout, dqkv, Dp, b, L, h, hd, bwd)
            af = timed(lambda: run(False), args.warmup, args.iters)
            ab = timed(lambda: run(True), args.warmup, args.iters)
            res["attention"] = {"heads": h, "head_dim": hd, "fwd_ms": af, "bwd_ms": ab, "fwd_bwd_ms": af + ab,
                                "finite": bool(torch.isfinite(aout).all().item())}
            del qkv, aout, lse, adout, dqkv, Dp
        except Exception as e:  # noqa: BLE001
            res["attention"] = {"error": repr(e)[:500]}
    torch.cuda.empty_cache()
    return res


def summary(results, at=2048):
    r = next((x for x in results if x["L"] == at), None)
    if r is None or "fwd_bwd_ms" not in r.get("parrot", {}):
        return {"L": at, "note": "no parrot timing at this length"}
    pm = r["parrot"]["fwd_bwd_ms"]
    s = {"L": at, "parrot_fwd_bwd_ms": pm}
    for k in ("torch_ref", "torch_compile_step", "torch_compile_full", "attention"):
        v = r.get(k, {})
        if "fwd_bwd_ms" in v:
            s[k + "_fwd_bwd_ms"] = v["fwd_bwd_ms"]
            s[k + "_over_parrot"] = v["fwd_bwd_ms"] / pm     # > 1: parrot's scan is faster
    return s


def cpu_selftest():
    """No GPU: the reference in parrot's layout against a naive loop; layout round trips."""
    p = make_problem(2, 7, 3, 4, "cpu", seed=3)
    ref = ref_grads(p, torch.randn(2 * 7, 3, dtype=torch.float64))
    e = rel_err(naive_parrot_layout(p), ref["out"])
    t = torch.arange(2 * 7 * 3, dtype=torch.float32).view(14, 3)
    rt = from_ref_layout(from_ref_dout(t, 2, 7), 2, 7)
    ok = e < 1e-12 and torch.equal(rt, t)
    sig = entry_signatures(".visible .entry k(\n .param .u64 a,\n .param .u32 b,\n .param .f32 c,\n .param .f64 d,\n"
                           " .param .align 4 .b8 e[512]\n)\n{")
    ok = ok and sig == {"k": "pifds[512]"}
    fb, bb, sb = scan_bytes(1, 64, 32, 16)
    ok = ok and fb > 0 and bb > fb and sb > 0
    print(json.dumps({"cpu_selftest": "passed" if ok else "failed", "ref_vs_naive_rel_err": e}))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--lengths", default="256,512,1024,2048,4096")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--d-inner", type=int, default=2048, help="scan channels (Mamba d_inner = 2·d_model)")
    ap.add_argument("--d-state", type=int, default=16)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10, help="timed runs of parrot's kernels (median reported)")
    ap.add_argument("--torch-iters", type=int, default=3, help="timed runs of the PyTorch loops")
    ap.add_argument("--no-compile", action="store_true", help="skip both torch.compile variants")
    ap.add_argument("--compile-full-max-len", type=int, default=256)
    ap.add_argument("--ptx-dir", help="directory with <sm>/<family>.ptx (default: build/ptx-resources/parrot/ptx)")
    ap.add_argument("--jar", help="parrot.jar to take the PTX from")
    ap.add_argument("--cpu-selftest", action="store_true", help="check the script's reference plumbing, no GPU")
    args = ap.parse_args()
    if args.cpu_selftest:
        return cpu_selftest()
    if not torch.cuda.is_available():
        print("bench_scan: no CUDA device (torch.cuda.is_available() is False)", file=sys.stderr)
        return 2
    if not 1 <= args.d_state <= SCAN_MAX_STATE:
        print("bench_scan: --d-state must be 1..%d" % SCAN_MAX_STATE, file=sys.stderr)
        return 64
    if args.no_compile:
        args.compile_full_max_len = 0
    torch.cuda.init()
    torch.zeros(1, device="cuda")
    props = torch.cuda.get_device_properties(0)
    cc = (props.major, props.minor)
    arch = "sm_80" if cc[0] >= 8 else None         # the one PTX target (cuda.mk): JIT-compiled for the card
    doc = {"schema": "parrot.bench_scan/1", "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "device": props.name, "compute_capability": "%d.%d" % cc, "multiprocessors": props.multi_processor_count,
           "torch": torch.__version__, "cuda_runtime": torch.version.cuda, "python": platform.python_version(),
           "config": {"batch": args.batch, "d_inner": args.d_inner, "d_state": args.d_state, "heads": args.heads,
                      "head_dim": args.head_dim, "softplus": True, "D": True, "z": True, "delta_bias": True,
                      "warmup": args.warmup, "iters": args.iters, "torch_iters": args.torch_iters,
                      "checkpoint_chunk": SCAN_CHUNK}}
    rc = 0

    def write():
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=2)
            print("bench_scan: results in " + args.json)

    if arch is None:
        doc["error"] = "compute capability %d.%d: parrot's kernels need 8.0 or newer" % cc
        write()
        return 2
    drv = Driver()
    try:
        scan_ptx, where = find_ptx(arch, "scan", args.ptx_dir, args.jar)
        doc["ptx"] = {"arch": arch, "scan": where}
        scan = ParrotScan(drv, scan_ptx)
        att = None
        try:
            att_ptx, awhere = find_ptx(arch, "attention", args.ptx_dir, args.jar)
            doc["ptx"]["attention"] = awhere
            att = ParrotAttention(drv, att_ptx)
        except Exception as e:  # noqa: BLE001
            args.attention_skip_reason = repr(e)[:500]
        doc["check"] = check_parrot(scan, args)
        print("bench_scan: check " + ("passed" if doc["check"]["passed"] else "FAILED") + " " +
              json.dumps(doc["check"]["max_rel_err"]))
        if not doc["check"]["passed"]:
            rc = 1
        doc["copy_bandwidth_gbs"] = copy_bandwidth()
        compiled_step = None
        if not args.no_compile:
            try:
                compiled_step = torch.compile(scan_step)
            except Exception as e:  # noqa: BLE001
                doc["torch_compile_step_error"] = repr(e)[:500]
        doc["results"] = []
        for L in [int(x) for x in args.lengths.split(",") if x.strip()]:
            r = bench_length(L, args, scan, att, doc["copy_bandwidth_gbs"], compiled_step)
            doc["results"].append(r)
            print("bench_scan: L=%d %s" % (L, json.dumps({k: v for k, v in r.items() if k != "bytes"})))
            write()                                   # partial results survive a later failure or timeout
        doc["summary_l2048"] = summary(doc["results"], 2048)
        print("bench_scan: L=2048 " + json.dumps(doc["summary_l2048"]))
        if any("error" in r.get("parrot", {}) for r in doc["results"]):
            rc = 1
    except Exception as e:  # noqa: BLE001
        doc["error"] = repr(e)[:1000]
        print("bench_scan: " + doc["error"], file=sys.stderr)
        rc = 1
    finally:
        write()
        drv.close()
    return rc


if __name__ == "__main__":
    sys.exit(main())
