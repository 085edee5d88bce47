"""The registry of detector classes, filled by subclassing :class:`~anomalylab.models.base.Detector`.

Persistence rebuilds only the classes listed here (its allow-list) and the command line offers each of them;
neither imports the model modules to find them. A class registers when its module is imported, and importing
any ``anomalylab.models`` module imports the package, which imports every model module: a registry read
through the package is complete.
"""

from __future__ import annotations

import inspect
import re

DETECTORS: dict[str, type] = {}  # class name -> class: the public, concrete detectors


def register(cls: type) -> None:
    """Enter ``cls`` under its class name. A second class of the same name from another module is refused
    (a saved file names its class, so two classes of one name would make it ambiguous); the same class
    defined again (a module reloaded) replaces the first."""
    known = DETECTORS.get(cls.__name__)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"a detector class named {cls.__name__!r} is already registered (from {known.__module__}); "
                        f"rename the class in {cls.__module__} or make it private (a leading underscore).")  # fmt: skip
    DETECTORS[cls.__name__] = cls


def describe(cls: type) -> str:
    """What a detector class does, in one sentence: the first of its docstring, without reStructuredText markup
    (the command line's ``--list-models`` and the explorer's page of a user's series show it)."""
    text = " ".join((inspect.getdoc(cls) or cls.__name__).split("\n\n")[0].split())
    text = re.sub(r":[a-z]+:`~?([^`]+)`", lambda match: match.group(1).split(".")[-1], text).replace("``", "")
    text = re.sub(r"[;,]? see the module docstring[^;.]*", "", text)
    return text.split(". ")[0].rstrip(".")
