"""Platform-neutral input: which conversation, what happened, and who did it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from leavewell.dialogs.events import EVENT_KINDS, Event


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """The explicit conversation key: a user in a chat (and thread) on a platform."""

    platform: str
    chat_id: str
    user_id: str
    thread_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.chat_id}:{self.user_id}:{self.thread_id}"

    @property
    def user_key(self) -> str:
        return f"{self.platform}:{self.user_id}"

    def address(self) -> dict[str, str]:
        return {
            "platform": self.platform,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "thread_id": self.thread_id,
        }

    @classmethod
    def from_address(cls, address: dict[str, Any]) -> ConversationRef:
        return cls(
            platform=str(address["platform"]),
            chat_id=str(address["chat_id"]),
            user_id=str(address["user_id"]),
            thread_id=str(address.get("thread_id", "")),
        )


@dataclass(frozen=True, slots=True)
class Actor:
    """What the platform says about the person behind an event, for mentor rounds."""

    name: str = ""
    privileged: bool = False  # may start and end rounds here (a group admin, a mentor role)
    in_group: bool = False  # the event happened in a group chat or a server channel
    reach: dict[str, str] | None = None  # the address of a private chat with them, if any
    # False when the platform may refuse to deliver to `reach` yet (Telegram: a bot cannot
    # write first to someone who never started it). Kept as the reach all the same, so it
    # works once they do.
    reach_open: bool = True

    def group_address(self, ref: ConversationRef) -> dict[str, str]:
        return {**ref.address(), "user_id": ""}


@dataclass(frozen=True, slots=True)
class Incoming:
    ref: ConversationRef
    event: Event
    # "<platform>:<update id>": makes a re-delivered update a no-op. None: not deduplicated.
    event_id: str | None = None
    actor: Actor = field(default_factory=Actor)
    # How the platform lets us answer this event privately in place (e.g. a Telegram
    # callback query's toast); put on the event's own replies' address.
    reply_via: str | None = None


_EVENTS: dict[str, type] = {kind: cls for cls, kind in EVENT_KINDS.items()}


def to_payload(incoming: Incoming) -> dict[str, Any]:
    """The event as JSON, for an adapter whose platform update cannot be parsed again
    later (the intake keeps this in its inbox and replays it after a crash)."""
    actor = incoming.actor
    return {
        "address": incoming.ref.address(),
        "event": {"kind": EVENT_KINDS[type(incoming.event)], **asdict(incoming.event)},
        "actor": {"name": actor.name, "privileged": actor.privileged,
                  "in_group": actor.in_group, "reach": actor.reach,
                  "reach_open": actor.reach_open},
        "reply_via": incoming.reply_via,
    }


def from_payload(event_id: str, payload: dict[str, Any]) -> Incoming:
    """The inverse of `to_payload`. Raises KeyError, TypeError or ValueError on a payload
    that is not one."""
    ref = ConversationRef.from_address(payload["address"])
    fields = dict(payload["event"])
    event = _EVENTS[str(fields.pop("kind"))](**fields)
    who = payload.get("actor") or {}
    reach = who.get("reach")
    actor = Actor(name=str(who.get("name") or ""), privileged=bool(who.get("privileged")),
                  in_group=bool(who.get("in_group")),
                  reach={str(k): str(v) for k, v in reach.items()} if reach else None,
                  reach_open=bool(who.get("reach_open", True)))
    via = payload.get("reply_via")
    return Incoming(ref, event, event_id, actor=actor, reply_via=str(via) if via else None)
