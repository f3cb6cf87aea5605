"""A mermaid picture of the interview, generated from flow.yaml so it never goes stale."""

from __future__ import annotations

from leavewell.dialogs.script import Script, default_script


def mermaid(script: Script | None = None) -> str:
    script = script or default_script()
    lines = ["stateDiagram-v2", f"    [*] --> {script.start}"]
    for state in script.states.values():
        for target in state.next:
            lines.append(f"    {state.id} --> {target}")
    return "\n".join(lines) + "\n"
