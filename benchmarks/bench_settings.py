"""Settings that change results (thread count, float32 matmul precision), recorded as tracks."""

from ptbench.suite import declare

track_threads = declare.track_threads
track_float32_matmul_allows_tf32 = declare.track_float32_matmul_allows_tf32
