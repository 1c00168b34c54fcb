"""Names safe for files and folders."""

import re


def slug(text: str) -> str:
    """``"NVIDIA H100 80GB HBM3"`` -> ``"nvidia-h100-80gb-hbm3"``: lower case, runs of anything
    but letters and digits as one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
