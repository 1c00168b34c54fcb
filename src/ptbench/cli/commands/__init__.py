"""One module per ``ptbench`` command, as asv's ``commands/``: each holds its parser (``add``)
and its handler (``handle``), and calls the layers below; nothing here measures, judges or
formats."""
