"""Settings that change results (thread count, float32 matmul precision), recorded as tracks."""

from ptbench import suite

track_threads = suite.track_threads
track_float32_matmul_allows_tf32 = suite.track_float32_matmul_allows_tf32
