"""The version of gsvc: the one place it is written (``pyproject.toml`` reads it from here).

Modules inside the package import it from here, never from ``gsvc/__init__``, so that
importing one of them does not import the whole package.
"""
__version__ = "0.1.0"
