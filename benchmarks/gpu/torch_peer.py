"""PyTorch eager speed peer for the CUDA backend (issue 10): one training step (forward, backward, Adam) per
network, batch and precision, timed with CUDA events on the same card in the same device call as our numbers.

Networks mirror io.qsync.models.DemoModels: the demo CNN (fashionCnn: conv5x5(16)-maxpool-conv5x5(32)-maxpool-
dense(64)-dense(10), no padding) and the VGG-style CNN (vggCnn: six 3x3 convs 64-64-128-128-256-256 with padding 1,
a 2x2 max-pool after each pair, dense 512, dense 10). Inputs are random normal 1x28x28 images with random labels
(never zeros), already on the device, as in the issue's measurement.

Usage: python3 torch_peer.py OUT.json [steps]
       python3 torch_peer.py --profile OUT.json   (the VGG-style step at batch 1024, kernel by kernel: torch.profiler's
       CUDA activity over five steps per precision, to set beside CudaEngineBench timeline's op table)
"""
import json
import statistics
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def demo_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def vgg_cnn():
    layers, c = [], 1
    for i, out in enumerate((64, 64, 128, 128, 256, 256)):
        layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
        c = out
        if i % 2 == 1:  # a pool after each pair: 28 -> 14 -> 7 -> 3
            layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 3 * 3, 512), nn.ReLU(), nn.Linear(512, 10))


def make_step(make, batch, precision, deterministic=False):
    torch.manual_seed(0)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cuda.matmul.allow_tf32 = precision == "TF32"
    torch.backends.cudnn.allow_tf32 = precision == "TF32"
    model = make().cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")
    amp = {"FP16": torch.float16, "BF16": torch.bfloat16}.get(precision)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "FP16")

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=amp or torch.float32, enabled=amp is not None):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    return step


def time_step(make, batch, precision, steps, warmup=10, deterministic=False):
    step = make_step(make, batch, precision, deterministic)
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(steps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        step()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    ms = statistics.median(times)
    return {"ms": ms, "samples_per_s": batch / ms * 1e3}


def profile_step(make, batch, precision, steps=5):
    """Device time per kernel name (ms per step) of one training step, from torch.profiler's CUDA activity."""
    from torch.profiler import ProfilerActivity, profile
    step = make_step(make, batch, precision)
    for _ in range(10):
        step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
    kernels = {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            kernels[e.name] = kernels.get(e.name, 0.0) + e.time_range.elapsed_us() / 1e3 / steps
    return dict(sorted(kernels.items(), key=lambda kv: -kv[1]))


def profile_main(out):
    rows = []
    for p in ("FP32", "TF32", "FP16"):
        k = profile_step(vgg_cnn, 1024, p)
        total = sum(k.values())
        print(f"TORCHPROF vgg-cnn b1024 {p:5s} kernel sum {total:8.3f} ms, {len(k)} kernel names", flush=True)
        for name, ms in list(k.items())[:25]:
            print(f"TORCHPROF {p:5s} {ms:8.3f} ms  {name[:150]}", flush=True)
        rows.append({"network": "vgg-cnn", "batch": 1024, "precision": p, "kernel_sum_ms": total, "kernels_ms": k})
    for p in ("FP32", "TF32", "FP16"):  # what deterministic cuDNN algorithms (ours are) cost PyTorch
        for det in (False, True):
            r = time_step(vgg_cnn, 1024, p, 30, deterministic=det)
            print(f"TORCHDET vgg-cnn b1024 {p:5s} cudnn.deterministic={det!s:5s} {r['ms']:8.3f} ms", flush=True)
            rows.append({"network": "vgg-cnn", "batch": 1024, "precision": p, "deterministic": det, **r})
    torch.backends.cudnn.deterministic = False
    with open(out, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": rows}, f, indent=1)


def main():
    if sys.argv[1] == "--profile":
        profile_main(sys.argv[2])
        return
    out, steps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rows = []
    for name, make, batch, precs in (("demo-cnn", demo_cnn, 256, ["FP32"]),
                                     ("vgg-cnn", vgg_cnn, 1024, ["FP32", "TF32", "FP16", "BF16"])):
        for p in precs:
            r = time_step(make, batch, p, steps)
            r.update(network=name, batch=batch, precision=p)
            rows.append(r)
            print(f"torch {name:9s} b{batch:5d} {p:5s} {r['ms']:8.3f} ms  {r['samples_per_s']:10.0f} samples/s",
                  flush=True)
    with open(out, "w") as f:
        json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
