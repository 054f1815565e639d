"""The ``grapevine`` command line (typer + rich): a thin shell over the library."""
