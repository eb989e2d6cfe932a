"""Where the project's own files are (configs, expectation suites), as opposed to its state."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def expectations_dir() -> Path:
    """The folder of expectation suites (RETRAINER_EXPECTATIONS overrides it)."""
    return Path(os.environ.get("RETRAINER_EXPECTATIONS", PROJECT_ROOT / "expectations"))


def config_path(name: str = "flights") -> Path:
    """A bundled config file by data set name."""
    return PROJECT_ROOT / "configs" / f"{name}.yaml"
