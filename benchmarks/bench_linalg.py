"""Linear algebra: matmul, SPD solves by LU versus Cholesky (method), eig, eigh, svd, svdvals."""

from ptbench.suite import declare
from ptbench.suite.operations import linalg

time_matmul = declare.time_benchmark(linalg.MATMUL)
time_matmul_batched = declare.time_benchmark(linalg.MATMUL_BATCHED)
time_solve = declare.time_benchmark(linalg.SOLVE)
time_eig = declare.time_benchmark(linalg.EIG)
time_eigh = declare.time_benchmark(linalg.EIGH)
time_svd = declare.time_benchmark(linalg.SVD)
time_svdvals = declare.time_benchmark(linalg.SVDVALS)
