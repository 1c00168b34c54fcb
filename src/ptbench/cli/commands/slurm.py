"""The suite across a Slurm cluster, one job per machine type (``ptbench slurm``)."""

from __future__ import annotations

import argparse

from ptbench.cli.arguments import add_selection, folder
from ptbench.core import outputs
from ptbench.core.errors import EXIT_OK, UsageError
from ptbench.core.outputs import PATH_SHOWN, cut, emit, one_line


def add(commands) -> None:
    slurm = commands.add_parser(
        "slurm",
        help="run the suite across a Slurm cluster, one job per machine type",
        description="Write one job script per --type NAME=PARTITION[:GRES] (a whole node, "
        "exclusive) that runs ptbench run and archives what it recorded under --collect (on a "
        "filesystem the nodes share), and submit them with sbatch. With --wait, wait for the "
        "jobs and, with --merge-into, merge their archives. Exit 1 if a job found a benchmark "
        "failing its check.",
    )
    slurm.add_argument("--type", dest="types", action="append", required=True,
                       metavar="NAME=PARTITION[:GRES]",
                       help="a machine type and its partition; repeat for each")
    slurm.add_argument("--collect", metavar="DIR", type=folder, required=True,
                       help="a folder every node sees, for the scripts, logs and archives")
    add_selection(slurm, default_tier="default")
    slurm.add_argument("--time", default="04:00:00", help="each job's time limit")
    slurm.add_argument("--wait", action="store_true", help="wait for the jobs to end")
    slurm.add_argument("--merge-into", metavar="DIR", type=folder,
                       help="with --wait: merge the archives into DIR (default: leave them in "
                       "--collect)")  # fmt: skip
    slurm.add_argument("--dry-run", action="store_true", help="write the scripts; submit nothing")


def handle(args: argparse.Namespace) -> int:
    from ptbench.data import merge
    from ptbench.run import plan, project, slurm

    if args.merge_into is not None and not args.wait:
        raise UsageError("--merge-into needs --wait (the archives exist once the jobs end)")
    devices = [part for device in args.device or [] for part in ("--device", device)]
    # --bench=X, so that a pattern starting with '-' stays the option's value on the node
    selection = ["--tier", args.tier, *([f"--bench={args.bench}"] if args.bench else []), *devices]
    request = slurm.SlurmRequest(
        types=tuple(slurm.parse_type(text) for text in args.types),
        collect=outputs.resolved(args.collect, "--collect"), project=project.find_project(),
        run_arguments=tuple(selection), time=args.time,
    )  # fmt: skip
    slurm.check(request)
    # The nodes run the selection later: a --bench that selects nothing is refused here, now.
    plan.select(plan.discover(request.project / "benchmarks"), args.tier,
                args.device or ["cpu", "cuda"], args.bench)  # fmt: skip
    paths = slurm.write_scripts(request)
    if args.dry_run:
        for path in paths:
            emit(f"ptbench: wrote {path}; submit it with: sbatch {path}")
        return EXIT_OK
    submitted = slurm.submit(paths, args.wait)
    for path, status, text in submitted:
        first = cut(one_line(text.splitlines()[0]), PATH_SHOWN) if text else "?"  # sbatch's
        emit(f"ptbench: {path.stem}: job {first}, exit {status}")  # words, not a screenful
    status = slurm.outcome(submitted, args.wait)
    archives = slurm.archives(request)
    if args.merge_into is not None and archives:
        done = merge.merge(archives, args.merge_into)
        emit(f"ptbench: merged {len(done.copies)} files into {args.merge_into}")
    elif not args.wait:
        emit(f"ptbench: when the jobs end: ptbench merge {request.collect}/archives/*.tar.gz "
             "--into results/")  # fmt: skip
    return status
