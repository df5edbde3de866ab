"""PyTorch peer of io.qsync.bench.gpu.NcclAllReduceBench (issue 16): torch.distributed NCCL all-reduce of float32
device tensors on every GPU of the machine, one process per GPU (mp.spawn, env rendezvous on localhost; no torchrun),
timed the same way: per repetition a barrier, ITERS in-place sums back to back, a device synchronize; the slowest
rank's time per operation; the median over REPS repetitions; bus bandwidth 2(n-1)/n * bytes / time.
NCCL_NVLS_ENABLE=0 is set before any process starts (the GPU machines require NVLink multicast off).

Usage: python3 nccl_torch_peer.py OUT.json [MiB ...]   (default 64 1024)
"""
import json
import os
import statistics
import sys
import time

os.environ["NCCL_NVLS_ENABLE"] = "0"

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

ITERS, REPS, WARMUP = 20, 7, 5


def worker(rank, n, sizes, port, queue):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), NCCL_NVLS_ENABLE="0")
    torch.cuda.set_device(rank)
    try:
        dist.init_process_group("nccl", rank=rank, world_size=n, device_id=torch.device("cuda", rank))
    except TypeError:  # torch < 2.3 has no device_id
        dist.init_process_group("nccl", rank=rank, world_size=n)
    rows = []
    for mib in sizes:
        nbytes = mib << 20
        x = torch.zeros(nbytes // 4, dtype=torch.float32, device="cuda")
        for _ in range(WARMUP):
            dist.all_reduce(x)
        torch.cuda.synchronize()
        times = []
        for _ in range(REPS):
            dist.barrier(device_ids=[rank])
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(ITERS):
                dist.all_reduce(x)
            torch.cuda.synchronize()
            t = torch.tensor([(time.perf_counter() - t0) / ITERS], device="cuda", dtype=torch.float64)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            times.append(t.item())
        sec = statistics.median(times)
        rows.append({"op": "allReduce", "ranks": n, "bytes": nbytes, "msPerOp": sec * 1e3,
                     "busGBps": 2.0 * (n - 1) / n * nbytes / sec / 1e9})
        del x
        torch.cuda.empty_cache()
    if rank == 0:
        queue.put(rows)
    dist.destroy_process_group()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "nccl-torch.json"
    sizes = [int(a) for a in sys.argv[2:]] or [64, 1024]
    n = torch.cuda.device_count()
    if n < 2:
        print(f"only {n} CUDA device(s): an all-reduce between GPUs needs 2 or more", file=sys.stderr)
        sys.exit(2)
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    mp.spawn(worker, args=(n, sizes, port, queue), nprocs=n, join=True)
    rows = queue.get()
    result = {"ranks": n, "torch": torch.__version__, "ncclVersion": ".".join(map(str, torch.cuda.nccl.version())),
              "iters": ITERS, "reps": REPS, "devices": [torch.cuda.get_device_name(i) for i in range(n)], "rows": rows}
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    for r in rows:
        print(f"TORCH {r['op']:<22} ranks={r['ranks']} bytes={r['bytes']} ms/op={r['msPerOp']:.4f} "
              f"busGB/s={r['busGBps']:.1f}")


if __name__ == "__main__":
    main()
