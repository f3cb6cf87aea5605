"""What the interview wants said: a template and its parameters, not formatted text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Choice:
    id: str  # short and ASCII: it travels as Telegram callback_data / Discord custom_id
    label: str
    # Where there are no buttons (the console): the command typed instead of pressing,
    # e.g. "/why 2". None: the choice is shown numbered and its number is typed.
    typed: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    template: str  # e.g. "feedback" or a message key such as "ask_role"
    lang: str
    params: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    # Files sent after the text, by name (bot/attachments.py builds them): "export",
    # "progress_chart", "round_chart", "round_csv", "round_md".
    attachments: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "lang": self.lang,
            "params": self.params,
            "choices": [_choice_dict(c) for c in self.choices],
            "attachments": list(self.attachments),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outgoing:
        return cls(
            template=data["template"],
            lang=data["lang"],
            params=dict(data.get("params") or {}),
            choices=tuple(Choice(c["id"], c["label"], c.get("typed"))
                          for c in data.get("choices") or ()),
            attachments=_attachments(data),
        )


def _choice_dict(choice: Choice) -> dict[str, str]:
    data = {"id": choice.id, "label": choice.label}
    if choice.typed is not None:
        data["typed"] = choice.typed
    return data


def _attachments(data: dict[str, Any]) -> tuple[str, ...]:
    if "attachments" in data:
        return tuple(data["attachments"] or ())
    old = data.get("attachment")  # rows stored before attachments became a list
    return (old,) if old else ()
