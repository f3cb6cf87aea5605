"""discord.py objects -> platform-neutral Incoming. Synchronous: nothing here awaits."""

from __future__ import annotations

from typing import Any

import discord

from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.events import Event, TextAnswer, Unsupported
from leavewell.dialogs.script import LANGS

PLATFORM = "discord"
_USER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


def ui_lang(locale: Any, default: str) -> str:
    """Discord locale ('zh-CN', 'en-US', Locale.chinese) -> one of our languages."""
    code = str(locale or "").lower()[:2]
    return code if code in LANGS else default


def lang_hint(locale: Any) -> str | None:
    text = str(locale or "")
    return text or None


def message_id(message_id: int) -> str:
    return f"{PLATFORM}:msg:{message_id}"


def interaction_id(interaction_id: int, suffix: str = "") -> str:
    return f"{PLATFORM}:ix:{interaction_id}{suffix}"


def ref_of(chat_id: int, user_id: int) -> ConversationRef:
    return ConversationRef(PLATFORM, str(chat_id), str(user_id))


def is_interview_thread(channel: Any, bot_id: int) -> bool:
    """Interviews on a server happen only in private threads the bot opened."""
    return (isinstance(channel, discord.Thread)
            and channel.type == discord.ChannelType.private_thread
            and channel.owner_id == bot_id)


def is_interview_place(channel: Any, bot_id: int) -> bool:
    return isinstance(channel, discord.DMChannel) or is_interview_thread(channel, bot_id)


def _is_audio(attachment: discord.Attachment) -> bool:
    return (attachment.duration is not None or attachment.is_voice_message()
            or (attachment.content_type or "").startswith("audio/"))


def _media_kind(attachment: discord.Attachment) -> str:
    kind = (attachment.content_type or "").split("/")[0]
    return {"image": "photo", "video": "video"}.get(kind, "document")


def audio_attachments(message: discord.Message) -> list[discord.Attachment]:
    return [a for a in message.attachments if _is_audio(a)]


def event_of_message(message: discord.Message) -> Event:
    at = message.created_at.timestamp()
    if message.stickers:
        return Unsupported(at=at, what="sticker")
    attachments = list(message.attachments)
    if attachments:
        audio = [a for a in attachments if _is_audio(a)]
        if len(audio) != len(attachments):
            return Unsupported(at=at, what=_media_kind(attachments[0]))
        seconds = sum(a.duration or 0.0 for a in audio)
        return TextAnswer(at=at, text=message.content,
                          voice_seconds=seconds if seconds > 0 else None)
    return TextAnswer(at=at, text=message.content)


def incoming_of_message(message: discord.Message, bot_id: int) -> Incoming | None:
    """A user's message in their interview thread or DM; None for everything else."""
    if message.author.bot or message.author.id == bot_id:
        return None
    if message.type not in _USER_MESSAGES:
        return None
    if not is_interview_place(message.channel, bot_id):
        return None
    return Incoming(ref_of(message.channel.id, message.author.id), event_of_message(message),
                    message_id(message.id))
