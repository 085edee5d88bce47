"""Exception types raised by anomalylab.

Every error says what is wrong and how to fix it. All of them derive from
``ValueError`` or ``RuntimeError`` so that generic callers still catch them.
"""


class AnomalyLabError(Exception):
    """Base class of every error anomalylab raises on purpose."""


class DataError(AnomalyLabError, RuntimeError):
    """A raw data file is missing, cannot be fetched, or fails its checksum."""


class InputError(AnomalyLabError, ValueError):
    """An argument or a data object given to a function is not usable."""
