#!/usr/bin/env bash
# Sourced by the device scripts: puts the native libraries that live inside PyTorch's Python environment on
# LD_LIBRARY_PATH - NCCL (host collective) and cuDNN (convolutions), plus what that cuDNN may load besides (cuBLAS(Lt),
# NVRTC of the same wheel set, after the toolkit's own) - and prints where cuDNN was found. Either absent: TCP ring /
# im2col + GEMM.
NCCL_LIB=$(python3 -c "import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], 'lib'))" 2>/dev/null)
CUDNN_LIB=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(list(nvidia.cudnn.__path__)[0], 'lib'))" 2>/dev/null)
CUDNN_DEPS=$(python3 -c "
import importlib, os
for m in ('nvidia.cublas', 'nvidia.cuda_nvrtc'):
    try: print(os.path.join(list(importlib.import_module(m).__path__)[0], 'lib'), end=':')
    except ImportError: pass" 2>/dev/null)
export LD_LIBRARY_PATH=${NCCL_LIB:+$NCCL_LIB:}${CUDNN_LIB:+$CUDNN_LIB:}/usr/local/cuda/lib64:${CUDNN_DEPS}${LD_LIBRARY_PATH:-}
echo "cuDNN lib: ${CUDNN_LIB:-none found}"; ls "${CUDNN_LIB:-/nonexistent}" 2>/dev/null | grep -E "^libcudnn.so" | head -3
