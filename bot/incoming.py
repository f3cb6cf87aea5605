"""Platform-neutral input: which conversation, what happened, and who did it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leavewell.dialogs.events import Event


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
