"""Errors raised while loading the declared scripts."""


class ScriptError(ValueError):
    """A script, catalog or template file is invalid; the message names file and field."""
