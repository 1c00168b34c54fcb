"""Linear algebra: matmul, SPD solves by LU versus Cholesky (method), eig, eigh, svd, svdvals."""

from ptbench import suite
from ptbench.operations import linalg

time_matmul = suite.time_benchmark(linalg.MATMUL)
time_matmul_batched = suite.time_benchmark(linalg.MATMUL_BATCHED)
time_solve = suite.time_benchmark(linalg.SOLVE)
time_eig = suite.time_benchmark(linalg.EIG)
time_eigh = suite.time_benchmark(linalg.EIGH)
time_svd = suite.time_benchmark(linalg.SVD)
time_svdvals = suite.time_benchmark(linalg.SVDVALS)
