"""This machine's hardware and software facts (``ptbench machine``)."""

from __future__ import annotations

import argparse
import sys

from ptbench.cli.arguments import folder, machine_name
from ptbench.core.errors import EXIT_OK, UsageError
from ptbench.core.outputs import emit


def add(commands) -> None:
    machine = commands.add_parser(
        "machine",
        help="print this machine's hardware and software facts as JSON",
        description="Collect the CPU, memory, GPUs, driver, CUDA, cuDNN, torch build, BLAS and "
        "settings, saying what could not be learned. --write records the hardware facts in "
        "asv's machine file (~/.asv-machine.json), under a name that says what the hardware "
        "is unless --machine gives one; ptbench run does this itself.",
    )
    machine.add_argument("--write", action="store_true",
                         help="record the facts in asv's machine file (~/.asv-machine.json)")
    machine.add_argument(
        "--probe", action="store_true", help="with --write: measure peak FLOP/s and bandwidth again"
    )
    machine.add_argument("--machine", metavar="NAME", type=machine_name,
                         help="the machine's name (default: one that says what the hardware is)")
    machine.add_argument(
        "--results", metavar="DIR", type=folder,
        help="with --write: refresh DIR/<machine>/ (default: leave results alone)",
    )  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    import json

    from ptbench.hardware import ceilings, machine

    given = [flag for flag, value in (("--probe", args.probe), ("--results", args.results))
             if value]  # fmt: skip
    if given and not args.write:
        verb = "needs" if len(given) == 1 else "need"
        raise UsageError(f"{' and '.join(given)} {verb} --write (they change what is recorded); "
                         "add --write, or leave them out to print the facts")
    facts = machine.collect()
    name = machine.check_name(args.machine or machine.default_name(facts))
    if args.write:
        name, entry = machine.write(name, facts, probe=args.probe, results_dir=args.results)
        facts = {**facts, **{k: v for k, v in entry.items()
                             if k.startswith(("peak_", "data", *ceilings.FACT_PREFIXES))}}
        where = machine.MachineCollection.get_machine_file_path()
        print(f"ptbench: recorded machine {name} in {where}", file=sys.stderr)
        for line in ceilings.describe(entry):
            print(f"ptbench: ceiling: {line}", file=sys.stderr)
    emit(json.dumps({**facts, "machine": name}, indent=1, sort_keys=True))
    return EXIT_OK
