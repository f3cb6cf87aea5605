"""Telegram Update -> platform-neutral Incoming. Synchronous: nothing here awaits."""

from __future__ import annotations

from datetime import timedelta

from telegram import Audio, Chat, Message, Update, VideoNote, Voice

from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.events import ChoicePressed, Command, Event, Start, TextAnswer, Unsupported
from leavewell.dialogs.rounds import commands as round_commands

PLATFORM = "telegram"
DEEP_LINK_PREFIX = "round_"  # t.me/<bot>?start=round_<id>: a round's Join, as a link


def conversation_of(update: Update) -> ConversationRef | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    message = update.effective_message
    thread = message.message_thread_id if message and message.is_topic_message else None
    return ConversationRef(PLATFORM, str(chat.id), str(user.id), str(thread or ""))


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == Chat.PRIVATE


def seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def command_of(message: Message, bot_username: str) -> tuple[str, str] | None:
    """'/practice@my_bot laid_off' -> ('practice', 'laid_off'); None if not a command."""
    text = message.text or ""
    if not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    head, _, args = text[1:].partition(" ")
    name, _, target = head.partition("@")
    if target and target.lower() != bot_username.lower():
        return None  # a command for another bot in the same group
    return name.lower(), args.strip()


def event_of(update: Update, bot_username: str, now: float) -> Event | None:
    if update.callback_query is not None:
        # A press carries no time of its own (the message's date is when we sent it).
        return ChoicePressed(at=now, choice=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None  # edits, channel posts, reactions: not part of an interview
    at = message.date.timestamp()
    command = command_of(message, bot_username)
    if command is not None:
        name, args = command
        user = update.effective_user
        if name == "start" and args.startswith(DEEP_LINK_PREFIX):
            # t.me/<bot>?start=round_<id>: the Join button of a mentor's round, pressed
            return ChoicePressed(at=at, choice=round_commands.join_choice(
                args[len(DEEP_LINK_PREFIX):]))
        if name == "start":
            return Start(at=at, lang_hint=user.language_code if user else None)
        return Command(at=at, name=name, args=args,
                       lang_hint=user.language_code if user else None)
    if message.text is not None:
        return TextAnswer(at=at, text=message.text)
    spoken = spoken_of(update)
    if spoken is not None:
        return TextAnswer(at=at, text=message.caption or "", voice_seconds=seconds(
            spoken.duration))
    return Unsupported(at=at, what=_media_kind(message))


def spoken_of(update: Update) -> Voice | Audio | VideoNote | None:
    """The recording of a spoken answer in a message, if it is one."""
    message = update.message
    if message is None:
        return None
    return message.voice or message.audio or message.video_note


def _media_kind(message: Message) -> str:
    for kind in ("sticker", "photo", "document", "video", "animation", "location", "contact"):
        if getattr(message, kind, None):
            return kind
    return "media"


def is_round_business(update: Update, bot_username: str) -> bool:
    """In a group, what belongs to a mentor's round: /round and the round's buttons."""
    query = update.callback_query
    if query is not None:
        return round_commands.parse_choice(query.data or "") is not None
    message = update.message
    command = command_of(message, bot_username) if message is not None else None
    return command is not None and command[0] == "round"


def private_address(user_id: int) -> dict[str, str]:
    return {"platform": PLATFORM, "chat_id": str(user_id), "user_id": str(user_id),
            "thread_id": ""}


def event_id_of(update: Update) -> str:
    return f"{PLATFORM}:{update.update_id}"


def incoming_of(update: Update, bot_username: str, now: float) -> Incoming | None:
    ref = conversation_of(update)
    event = event_of(update, bot_username, now)
    if ref is None or event is None:
        return None
    return Incoming(ref, event, event_id_of(update))
