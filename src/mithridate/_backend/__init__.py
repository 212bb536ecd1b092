"""What the compiled paths share: the switches that turn them off, host-to-device transfer, the thread pool
and the fma of the numba kernels, numba's source-keyed cache, and the draws of `rng.Key` compiled on the CPU
(numba) and on CUDA (Triton). Private to the package: the public surface is `mithridate.rng` and the
modalities' modules."""
