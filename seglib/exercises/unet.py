"""Checks for the exercises of notebook (to be written)."""

__all__: list[str] = []
