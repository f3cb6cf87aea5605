"""Drive the pure engine like a user would and read what it says back."""

from __future__ import annotations

from typing import Any

from leavewell.dialogs.engine import DialogSettings, Interviewer, StepResult
from leavewell.dialogs.events import ChoicePressed, Command, Event, Start, TextAnswer, Timeout
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import PLAIN, Renderer, default_renderer


class Transcript:
    def __init__(self, engine: Interviewer | None = None,
                 renderer: Renderer | None = None) -> None:
        self.engine = engine or Interviewer(settings=DialogSettings())
        self.renderer = renderer or default_renderer()
        self.profile: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.clock = 1_700_000_000.0
        self.last: StepResult | None = None
        self.log: list[tuple[str, str]] = []

    def send(self, event: Event) -> str:
        result = self.engine.step(self.profile, self.state, event)
        self.profile, self.state, self.last = result.profile, result.state, result
        replies = [self.render(o) for o in result.outgoing]
        self.log.append((type(event).__name__, "\n---\n".join(replies)))
        return "\n---\n".join(replies)

    def render(self, outgoing: Outgoing) -> str:
        return self.renderer.render(outgoing, PLAIN, numbered_choices=True).text

    def tick(self, seconds: float = 5) -> float:
        self.clock += seconds
        return self.clock

    def start(self, lang: str | None = None) -> str:
        return self.send(Start(at=self.tick(), lang_hint=lang))

    def say(self, text: str, voice_seconds: float | None = None) -> str:
        return self.send(TextAnswer(at=self.tick(), text=text, voice_seconds=voice_seconds))

    def command(self, name: str, args: str = "") -> str:
        return self.send(Command(at=self.tick(), name=name, args=args))

    def press(self, value: str) -> str:
        """Press the current prompt's button whose id ends with `value`."""
        return self.send(ChoicePressed(at=self.tick(), choice=self.button(value)))

    def button(self, value: str) -> str:
        assert self.last is not None
        for outgoing in reversed(self.last.outgoing):
            for choice in outgoing.choices:
                if choice.id.split(".", 1)[1] == value:
                    return choice.id
        raise AssertionError(f"no button {value!r} in {self.last.outgoing}")

    def timeout(self, after: float) -> str:
        return self.send(Timeout(at=self.tick(after)))

    @property
    def stage(self) -> str:
        return self.state["stage"]

    def outgoing(self, template: str) -> Outgoing:
        assert self.last is not None
        return next(o for o in self.last.outgoing if o.template == template)

    def through_setup(self, lang: str, situation: str) -> str:
        self.start(lang)
        self.press("skip")  # role
        self.press("skip")  # company
        reply = self.press(situation)
        if self.stage == "ask_detail":
            reply = self.say("about six months")
        return reply
