"""Errors raised while loading the declared scripts, and when code leaves the declared flow."""


class ScriptError(ValueError):
    """A script, catalog or template file is invalid; the message names file and field."""


class FlowError(RuntimeError):
    """A step tried a change of state that flow.yaml does not declare: code and the
    declared flow disagree. The message names both states and what made the move."""
