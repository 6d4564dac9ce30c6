"""``python -m hssim.compare``: the command line (:func:`hssim.compare.cli.main`)."""

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
