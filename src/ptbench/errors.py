"""The one kind of error the command line reports as bad input: one line, exit status 2."""


class InputError(Exception):
    """Input the user must fix (an argument, a selector, a results folder, a machine file).

    Raised before anything is written, so nothing under results/ is changed or lost.
    """
