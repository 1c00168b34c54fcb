from ptbench.cli import run

run()
