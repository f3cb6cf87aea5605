"""A mermaid picture of the interview, generated from flow.yaml so it never goes stale."""

from __future__ import annotations

from leavewell.dialogs.script import Cause, Script, default_script

ANYWHERE = "any_state"  # the jumps' common origin in the picture


def mermaid(script: Script | None = None) -> str:
    script = script or default_script()
    lines = ["stateDiagram-v2", f"    [*] --> {script.start}"]
    for state in script.states.values():
        for target in state.next:
            lines.append(f"    {state.id} --> {target}")
    if script.jumps:
        lines.append(f'    state "any state" as {ANYWHERE}')
        for target in script.states:
            causes = [_label(cause) for cause, targets in script.jumps.items()
                      if target in targets]
            if causes:
                lines.append(f"    {ANYWHERE} --> {target}: {', '.join(causes)}")
    return "\n".join(lines) + "\n"


def _label(cause: Cause) -> str:
    kind, name = cause
    if kind == "commands":
        return f"/{name}"
    if kind == "buttons":
        return f"{name} button"
    return name.replace("_", " ")
