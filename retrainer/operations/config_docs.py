"""``make docs``: write the config reference (docs/config.md) from the config models."""

import sys
from pathlib import Path

from retrainer.domain.config_docs import config_reference


def main() -> None:
    """Write the reference to the path given on the command line."""
    target = Path(sys.argv[1])
    target.write_text(config_reference(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
