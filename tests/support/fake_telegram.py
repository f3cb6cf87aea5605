"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real PTB bot.

    async with FakeTelegram(token="123:ABC") as tg:
        app = (ApplicationBuilder().token(tg.token).base_url(tg.base_url)
               .base_file_url(tg.file_url).build())
        ann = tg.user(1001, "Ann")
        ann.send_command("/start")
        await tg.wait_for(lambda t: t.messages(ann))

It speaks the Bot API over HTTP (form, JSON, multipart or GET query), keeps long polling
with offset confirmation, validates like Telegram (HTML entities, lengths, keyboards,
"message is not modified", callback answers, unknown chats), injects faults, and records
every request, error and bot message for assertions.

Groups know their members' statuses (`group.set_status(user, "administrator")`, read by
getChatMember); users follow t.me deep links (`user.open_link(url)`) and press buttons in
groups as in private chats; the toasts that answer their presses are kept per user.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error reply of the Bot API: `{"ok": false, "error_code", "description"}`."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT = ("Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running")

# --------------------------------------------------------------------------- HTML parse mode

_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
         "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
         "del": "strikethrough", "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link",
         "tg-emoji": "custom_emoji", "code": "code", "pre": "pre", "blockquote": "blockquote"}
_ATTR = r"[a-zA-Z][a-zA-Z0-9-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?"
_TAG_RE = re.compile(rf"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_ATTR})*)\s*>")
_ATTR_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _parse_error(what: str, text: str, index: int) -> ApiError:
    return bad(f"can't parse entities: {what} at byte offset {len(text[:index].encode())}")


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML parse mode: return (plain text, entities) or raise ApiError 400."""
    out: list[str] = []
    pos = 0  # UTF-16 offset in the plain text, as Telegram counts entity offsets
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if m is None:
                name = re.match(r"/?[^\s<>&]*", text[i + 1:])
                raise _parse_error(f'Unsupported start tag "{name.group() if name else ""}"',
                                   text, i)
            closing, name, attr_src = m.group(1), m.group(2).lower(), m.group(3)
            if closing:
                if not stack:
                    raise _parse_error("Unexpected end tag", text, i)
                if stack[-1][0] != name:
                    raise bad(f"can't parse entities: unmatched end tag at byte offset "
                              f'{len(text[:i].encode())}, expected "</{stack[-1][0]}>", '
                              f'found "</{name}>"')
                tag, attrs, start = stack.pop()
                entity = _entity(tag, attrs, start, pos - start, stack)
                if entity is not None and entity["length"] > 0:
                    entities.append(entity)
            else:
                if name not in _TAGS:
                    raise _parse_error(f'Unsupported start tag "{name}"', text, i)
                attrs = {k.lower(): html.unescape(v[1:-1] if v[:1] in "\"'" and v else v)
                         for k, v in _ATTR_RE.findall(attr_src)}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _parse_error('Tag "span" must have class "tg-spoiler"', text, i)
                if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
                    raise _parse_error('Tag "tg-emoji" must have attribute "emoji-id"', text, i)
                stack.append((name, attrs, pos))
            i = m.end()
            continue
        if ch == "&":
            m = _ENTITY_RE.match(text, i)
            if m is None or (m.group(3) is not None and m.group(3) not in _NAMED):
                raise _parse_error('Unsupported HTML entity (write "&" as "&amp;")', text, i)
            num = m.group(1) or (m.group(2) and str(int(m.group(2), 16)))
            ch = chr(int(num)) if num else _NAMED[m.group(3)]
            i = m.end()
        else:
            i += 1
        out.append(ch)
        pos += utf16_len(ch)
    if stack:
        raise bad(f"can't parse entities: Can't find end tag corresponding to start tag "
                  f'"{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity(tag: str, attrs: dict[str, str], offset: int, length: int,
            stack: list[tuple[str, dict[str, str], int]]) -> JSON | None:
    entity: JSON = {"type": _TAGS[tag], "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attrs.get("href", "")
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif tag == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith(
            "language-"):
        stack[-1][1]["language"] = attrs["class"].removeprefix("language-")
        return None  # <pre><code class="language-x"> is one pre entity
    return entity


# --------------------------------------------------------------------------- records


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class RecordedRequest:
    method: str
    params: JSON
    time: float
    status: int = 200


@dataclass
class FakeError:
    method: str
    status: int
    description: str
    params: JSON
    time: float


@dataclass
class SentMessage:
    """A message the bot sent, with its CURRENT content after edits."""

    chat_id: int
    message_id: int
    date: int
    kind: str = "text"  # text | document | photo
    text: str | None = None  # as the bot sent it (HTML source if parse_mode is HTML)
    caption: str | None = None
    parse_mode: str | None = None
    plain: str = ""  # text or caption after entity parsing, as a user reads it
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    file: UploadedFile | None = None
    file_id: str | None = None
    edit_date: int | None = None
    history: list[str | None] = field(default_factory=list)  # earlier texts/captions
    deleted: bool = False

    @property
    def _buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b for row in rows for b in row]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Callback buttons flattened: (text, callback_data)."""
        return [(b["text"], b["callback_data"]) for b in self._buttons if "callback_data" in b]

    @property
    def url_buttons(self) -> list[tuple[str, str]]:
        return [(b["text"], b["url"]) for b in self._buttons if "url" in b]

    @property
    def button_rows(self) -> list[list[str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[b["text"] for b in row] for row in rows]


MEMBER_STATUSES = ("creator", "administrator", "member", "left", "kicked")
PRESENT_STATUSES = frozenset({"creator", "administrator", "member"})


@dataclass
class FakeGroup:
    id: int
    title: str
    type: str = "group"
    privacy: bool = True  # the bot sees only commands, replies to it and mentions
    # user id -> ChatMember status; whoever writes or presses here without one is a "member"
    statuses: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {"id": self.id, "type": self.type, "title": self.title}

    def set_status(self, user: FakeUser | int, status: str) -> None:
        """Make a user the group's creator, an administrator, a plain member, or gone."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {MEMBER_STATUSES}")
        user_id = user if isinstance(user, int) else user.id
        if status == "creator" and any(
                s == "creator" and uid != user_id for uid, s in self.statuses.items()):
            raise ValueError("a group has one creator")
        self.statuses[user_id] = status

    def status(self, user: FakeUser | int) -> str:
        return self.statuses.get(user if isinstance(user, int) else user.id, "left")

    def _take_part(self, user: FakeUser) -> None:
        """Writing or pressing in a group needs being in it; newcomers join as members."""
        status = self.statuses.setdefault(user.id, "member")
        if status not in PRESENT_STATUSES:
            raise ValueError(f"{user.first_name} is {status!r} in {self.title!r}")


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSON | None
    times: int


@dataclass
class _Callback:
    pressed: float
    user_id: int = 0
    answer: JSON | None = None


_JSON_PARAMS = {"reply_markup", "entities", "caption_entities", "commands", "scope",
                "allowed_updates", "reply_parameters", "link_preview_options", "media"}
_INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time",
               "message_thread_id", "reply_to_message_id", "from_chat_id", "duration", "width",
               "height"}
_BOOL_PARAMS = {"disable_notification", "protect_content", "show_alert", "drop_pending_updates",
                "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler",
                "disable_content_type_detection", "show_caption_above_media"}
_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
            "upload_voice", "upload_document", "choose_sticker", "find_location",
            "record_video_note", "upload_video_note"}
# https://t.me/<bot>?start=<parameter>: up to 64 of A-Z a-z 0-9 _ -
_DEEP_LINK = re.compile(r"https://t\.me/([A-Za-z0-9_]{5,32})(?:\?start=([A-Za-z0-9_-]{1,64}))?")
_BUTTON_ACTIONS = ("callback_data", "url", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game", "pay")


def _decode(name: str, value: Any) -> Any:
    """PTB sends form fields with every non-string value JSON-encoded; undo that."""
    if isinstance(value, web.FileField):
        return UploadedFile(value.filename, value.file.read(),
                            value.content_type or "application/octet-stream")
    if not isinstance(value, str):
        return value
    if name in _JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad(f"can't parse {name} JSON object") from None
    if name in _INT_PARAMS:
        with contextlib.suppress(ValueError):
            return int(value)
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


def _now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------- users


class FakeUser:
    """A simulated Telegram user. Each `send_*` pushes an update and returns it (a dict)."""

    def __init__(self, tg: FakeTelegram, user_id: int, first_name: str, *,
                 last_name: str | None, username: str | None, language_code: str | None) -> None:
        self.tg, self.id, self.first_name = tg, user_id, first_name
        self.last_name, self.username, self.language_code = last_name, username, language_code
        self.started = False  # a bot cannot message a user who never wrote to it
        self.blocked = False  # set True to make the bot get 403 "bot was blocked by the user"

    def to_json(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def chat_json(self) -> JSON:
        return {"id": self.id, "type": "private",
                **{k: v for k, v in self.to_json().items()
                   if k in ("first_name", "last_name", "username")}}

    # -- sending

    def send_text(self, text: str, chat: FakeGroup | None = None, *,
                  entities: list[JSON] | None = None) -> JSON:
        """A text message. A leading /command gets its bot_command entity, as clients do."""
        if entities is None:
            m = re.match(r"/[a-zA-Z0-9_]{1,32}(@[a-zA-Z0-9_]+)?", text)
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group())}
                        ] if m else []
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._send(chat, content)

    def send_command(self, command: str, args: str = "", chat: FakeGroup | None = None) -> JSON:
        cmd = "/" + command.lstrip("/")
        if chat is not None:
            cmd += f"@{self.tg.bot_username}"
        return self.send_text(f"{cmd} {args}".rstrip(), chat)

    def reply_to(self, message: SentMessage | JSON, text: str) -> JSON:
        """Reply to a bot message (SentMessage) or to a message/update dict."""
        if isinstance(message, SentMessage):
            target, chat_id = self.tg.message_json(message), message.chat_id
        else:
            target = message.get("message", message)
            chat_id = target["chat"]["id"]
        chat = self.tg._groups.get(chat_id)
        return self._send(chat, {"text": text, "reply_to_message": target})

    def send_voice(self, duration: int = 3, file_bytes: bytes = b"OggS\x00fake-voice",
                   chat: FakeGroup | None = None, mime_type: str = "audio/ogg") -> JSON:
        f = self.tg.add_file(file_bytes, folder="voice", ext="oga")
        voice = {"file_id": f.file_id, "file_unique_id": f.file_unique_id,
                 "duration": duration, "mime_type": mime_type, "file_size": len(file_bytes)}
        return self._send(chat, {"voice": voice})

    def send_sticker(self, emoji: str = "👍", chat: FakeGroup | None = None) -> JSON:
        f = self.tg.add_file(b"RIFF\x00\x00\x00\x00WEBPfake", folder="stickers", ext="webp")
        sticker = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "type": "regular",
                   "emoji": emoji}
        return self._send(chat, {"sticker": sticker})

    def send_photo(self, file_bytes: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
                   caption: str | None = None, chat: FakeGroup | None = None) -> JSON:
        sizes = []
        for width in (90, 800):
            f = self.tg.add_file(file_bytes, folder="photos", ext="jpg")
            sizes.append({"file_id": f.file_id, "file_unique_id": f.file_unique_id,
                          "width": width, "height": width * 3 // 4, "file_size": len(file_bytes)})
        content: JSON = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._send(chat, content)

    def press(self, message: SentMessage, callback_data: str | None = None, *,
              text: str | None = None) -> JSON:
        """Press an inline button of a bot message, chosen by callback_data or by its text."""
        if message.deleted:
            raise ValueError(f"message {message.message_id} was deleted")
        match = [(t, d) for t, d in message.buttons
                 if (callback_data is None or d == callback_data) and (text is None or t == text)]
        if not match:
            raise ValueError(f"no button data={callback_data!r} text={text!r} in message "
                             f"{message.message_id}; it has {message.buttons}")
        group = self.tg._groups.get(message.chat_id)
        if group is not None:
            group._take_part(self)
        query_id = str(next(self.tg._query_ids))
        self.tg._callbacks[query_id] = _Callback(pressed=time.monotonic(), user_id=self.id)
        query = {"id": query_id, "from": self.to_json(), "message": self.tg.message_json(message),
                 "chat_instance": str(abs(message.chat_id) * 7 + 13), "data": match[0][1]}
        return self.tg.push_raw({"callback_query": query})

    def open_link(self, url: str) -> JSON:
        """Follow a t.me link to this bot, as a Telegram client does: open the private chat
        and send `/start <parameter>` there (what the START button sends)."""
        match = _DEEP_LINK.fullmatch(url)
        if match is None or match.group(1).lower() != self.tg.bot_username.lower():
            raise ValueError(f"not a deep link to @{self.tg.bot_username}: {url!r}")
        return self.send_text(f"/start {match.group(2) or ''}".rstrip())

    def _send(self, chat: FakeGroup | None, content: JSON) -> JSON:
        if chat is not None:
            chat._take_part(self)
        chat_id = self.id if chat is None else chat.id
        msg: JSON = {"message_id": self.tg._next_message_id(chat_id), "date": _now(),
                     "chat": self.chat_json() if chat is None else chat.to_json(),
                     "from": self.to_json(), **content}
        self.tg._user_msgs[(chat_id, msg["message_id"])] = msg
        if chat is None:
            self.started, self.blocked = True, False
        elif chat.privacy and not self._visible_in_group(msg):
            self.tg.hidden.append(msg)  # privacy mode: Telegram does not send it to the bot
            return {"message": msg}
        return self.tg.push_raw({"message": msg})

    def _visible_in_group(self, msg: JSON) -> bool:
        text = msg.get("text") or msg.get("caption") or ""
        replied = (msg.get("reply_to_message") or {}).get("from", {})
        return (text.startswith("/") or f"@{self.tg.bot_username}" in text
                or replied.get("id") == self.tg.bot_user["id"])


# --------------------------------------------------------------------------- the server


class FakeTelegram:
    """The fake Bot API server; use as `async with FakeTelegram() as tg:`."""

    def __init__(self, token: str = "123:ABC", *, bot_username: str = "leavewell_test_bot",
                 bot_name: str = "Leavewell Test", host: str = "127.0.0.1",
                 callback_timeout: float = 15.0) -> None:
        self.token, self.host, self.bot_username = token, host, bot_username
        self.callback_timeout = callback_timeout
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": bot_name,
                               "username": bot_username, "can_join_groups": True,
                               "can_read_all_group_messages": False,
                               "supports_inline_queries": False}
        self.requests: list[RecordedRequest] = []
        self.errors: list[FakeError] = []
        self.sent_times: dict[int, list[float]] = defaultdict(list)  # monotonic, per chat
        self.hidden: list[JSON] = []  # group messages the bot did not get (privacy mode)
        self.port = 0
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._bot_msgs: dict[int, list[SentMessage]] = defaultdict(list)
        self._user_msgs: dict[tuple[int, int], JSON] = {}
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1))
        self._pending: dict[int, JSON] = {}  # pushed, not yet confirmed by an offset
        self._redelivery: list[JSON] = []
        self._history: dict[int, JSON] = {}
        self._next_update_id = 1
        self._files: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_001)
        self._callbacks: dict[str, _Callback] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._faults: dict[str, list[_Fault]] = defaultdict(list)
        self._delays: dict[str, list[float]] = defaultdict(list)
        self._changed = asyncio.Event()
        self._poller: web.Request | None = None
        self.webhook: JSON | None = None  # set by setWebhook: {"url", "secret_token"}
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Callable[[JSON], Any]] = {
            name.lower(): getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower())
            for name in ("getMe", "deleteWebhook", "setWebhook", "getWebhookInfo", "setMyCommands",
                         "getMyCommands", "deleteMyCommands", "sendMessage", "editMessageText",
                         "editMessageCaption", "editMessageReplyMarkup", "answerCallbackQuery",
                         "sendChatAction", "sendDocument", "sendPhoto", "getFile",
                         "deleteMessage", "getChat", "getChatMember")}

    # -- lifecycle

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    # -- simulated world

    def user(self, user_id: int, first_name: str = "Ann", *, last_name: str | None = None,
             username: str | None = None, language_code: str | None = "en") -> FakeUser:
        if user_id not in self._users:
            self._users[user_id] = FakeUser(self, user_id, first_name, last_name=last_name,
                                            username=username, language_code=language_code)
        return self._users[user_id]

    def group(self, chat_id: int, title: str = "Test group", *, supergroup: bool = False,
              privacy: bool = True) -> FakeGroup:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id not in self._groups:
            self._groups[chat_id] = FakeGroup(chat_id, title,
                                              "supergroup" if supergroup else "group", privacy)
        return self._groups[chat_id]

    def add_file(self, data: bytes, *, folder: str = "documents", ext: str = "bin") -> StoredFile:
        """Register bytes that the bot can fetch with getFile + download."""
        n = next(self._file_ids)
        f = StoredFile(f"FAKEFILE{n:06d}-{folder}", f"uniq{n:06d}", f"{folder}/file_{n}.{ext}",
                       data)
        self._files[f.file_id] = f
        return f

    def push_raw(self, update: JSON) -> JSON:
        """Queue an update dict; `update_id` is assigned when missing."""
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self._pending[update["update_id"]] = self._history[update["update_id"]] = update
        self._notify()
        return update

    def redeliver(self, update_id: int) -> None:
        """Send an update again, even if it was confirmed (as Telegram sometimes does)."""
        if update_id not in self._history:
            raise ValueError(f"no update {update_id} was ever pushed")
        self._redelivery.append(self._history[update_id])
        self._notify()

    @property
    def polling(self) -> bool:
        """True while a getUpdates request is being served (e.g. waiting in a long poll)."""
        return self._poller is not None

    @property
    def pending_updates(self) -> list[int]:
        """Update ids not yet confirmed by the bot (plus queued re-deliveries)."""
        return sorted([*self._pending, *(u["update_id"] for u in self._redelivery)])

    # -- faults

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1,
                  description: str | None = None) -> None:
        parameters = None
        if status == 429:
            default = f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif status == 400:
            default = "Bad Request: injected failure"
        elif status == 403:
            default = "Forbidden: bot was blocked by the user"
        elif status == 409:
            default = CONFLICT
        else:
            default = HTTPStatus(status).phrase
        self._faults[method.lower()].append(
            _Fault(status, description or default, parameters, times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        self._delays[method.lower()].extend([seconds] * times)

    # -- reading what happened

    def calls(self, method: str) -> list[JSON]:
        """Params of every recorded request of `method` (case-insensitive)."""
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    def messages(self, chat: int | FakeUser | FakeGroup, *,
                 include_deleted: bool = False) -> list[SentMessage]:
        chat_id = chat if isinstance(chat, int) else chat.id
        return [m for m in self._bot_msgs.get(chat_id, []) if include_deleted or not m.deleted]

    def commands(self, language_code: str = "", scope: JSON | None = None) -> list[tuple[str, str]]:
        cmds = self._commands.get((self._scope_key(scope), language_code), [])
        return [(c["command"], c["description"]) for c in cmds]

    def callback_answer(self, query_id: str | JSON) -> JSON | None:
        """The answerCallbackQuery params of a press (its query id or the pushed update)."""
        if isinstance(query_id, dict):
            query_id = query_id["callback_query"]["id"]
        cb = self._callbacks.get(str(query_id))
        return cb.answer if cb else None

    def toasts(self, user: FakeUser | int) -> list[str]:
        """The texts of the answers to this user's presses, in the order pressed."""
        user_id = user if isinstance(user, int) else user.id
        return [str(cb.answer.get("text") or "") for cb in self._callbacks.values()
                if cb.user_id == user_id and cb.answer is not None]

    async def wait_for(self, predicate: Callable[[FakeTelegram], Any],
                       timeout: float = 5.0) -> Any:
        """Wait until `predicate(tg)` is truthy and return its value.

        Re-checked on every request and pushed update, and every 20 ms besides, so a predicate
        may also look at state of the bot under test (a handler's list, a database).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (result := predicate(self)):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(predicate, timeout))
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.02))
        return result

    async def wait_for_messages(self, chat: int | FakeUser | FakeGroup, count: int = 1,
                                timeout: float = 5.0) -> list[SentMessage]:
        await self.wait_for(lambda t: len(t.messages(chat)) >= count, timeout)
        return self.messages(chat)

    async def wait_confirmed(self, timeout: float = 5.0) -> None:
        """Wait until the bot has confirmed (via offset) every pushed update."""
        await self.wait_for(lambda t: not t.pending_updates, timeout)

    def _timeout_report(self, predicate: Callable[..., Any], timeout: float) -> str:
        code = getattr(predicate, "__code__", None)
        where = f" ({code.co_filename}:{code.co_firstlineno})" if code else ""
        recent = [r for r in self.requests if r.method.lower() != "getupdates" or r.status != 200]
        lines = [f"wait_for timed out after {timeout}s{where}; last requests (getUpdates hidden):"]
        lines += [f"  {r.method} -> {r.status} {r.params}" for r in recent[-15:]] or ["  (none)"]
        lines += [f"errors: {[(e.method, e.description) for e in self.errors[-5:]]}",
                  f"pending updates: {self.pending_updates}"]
        return "\n".join(lines)

    # -- plumbing

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids[chat_id])

    @staticmethod
    def _scope_key(scope: JSON | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        record = RecordedRequest(method, {}, time.time())
        self.requests.append(record)
        try:
            try:
                record.params = await self._read_params(request)
                if request.match_info["token"] != self.token:
                    raise ApiError(401, "Unauthorized")
                await self._inject(method)
                handler = self._methods.get(method.lower())
                if method.lower() == "getupdates":
                    result = await self._get_updates(record.params, request)
                elif handler is None:
                    raise ApiError(404, "Not Found")
                else:
                    result = handler(record.params)
                body: JSON = {"ok": True, "result": result}
            except ApiError as e:
                record.status = e.status
                self.errors.append(FakeError(method, e.status, e.description, record.params,
                                             record.time))
                body = e.body()
            return web.json_response(body, status=record.status)
        except asyncio.CancelledError:
            record.status = 499  # the client went away (e.g. PTB cancelled a long poll)
            raise
        finally:
            self._notify()

    async def _read_params(self, request: web.Request) -> JSON:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                raw.update(body if isinstance(body, dict) else {})
            else:
                raw.update(await request.post())
        return {k: _decode(k, v) for k, v in raw.items()}

    async def _inject(self, method: str) -> None:
        if self._delays.get(method.lower()):
            await asyncio.sleep(self._delays[method.lower()].pop(0))
        faults = self._faults.get(method.lower())
        if faults:
            fault = faults[0]
            fault.times -= 1
            if fault.times <= 0:
                faults.pop(0)
            raise ApiError(fault.status, fault.description, fault.parameters)

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.requests.append(RecordedRequest("downloadFile", {"file_path": path}, time.time()))
        self._notify()
        found = [f for f in self._files.values() if f.file_path == path]
        if request.match_info["token"] != self.token or not found:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                     status=404)
        return web.Response(body=found[0].data, content_type="application/octet-stream")

    # -- getUpdates

    async def _get_updates(self, p: JSON, request: web.Request) -> list[JSON]:
        old = self._poller
        if old is not None and old.transport is not None and not old.transport.is_closing():
            raise ApiError(409, CONFLICT)
        self._poller = request
        self._notify()
        try:
            offset = p.get("offset")
            if isinstance(offset, int) and offset < 0:
                for uid in sorted(self._pending)[:offset]:
                    del self._pending[uid]
            elif isinstance(offset, int):
                for uid in [u for u in self._pending if u < offset]:
                    del self._pending[uid]
            limit = min(max(int(p.get("limit") or 100), 1), 100)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + float(p.get("timeout") or 0)
            while not (self._pending or self._redelivery or self._closing):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            batch = sorted([*self._pending.values(), *self._redelivery],
                           key=lambda u: u["update_id"])[:limit]
            self._redelivery = [u for u in self._redelivery if not any(u is b for b in batch)]
            return batch
        finally:
            if self._poller is request:
                self._poller = None

    # -- chats and messages

    def _chat_id(self, p: JSON, *, sending: bool = True) -> int:
        chat_id = p.get("chat_id")
        if isinstance(chat_id, str):  # "@username"
            names = {f"@{u.username}": u.id for u in self._users.values() if u.username}
            chat_id = names.get(chat_id)
        if chat_id in self._groups:
            return chat_id
        if chat_id not in self._users:
            raise bad("chat not found")
        user = self._users[chat_id]
        if sending and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def chat_json(self, chat_id: int) -> JSON:
        if chat_id in self._groups:
            return self._groups[chat_id].to_json()
        return self._users[chat_id].chat_json()

    def message_json(self, sm: SentMessage) -> JSON:
        """The Message object Telegram returns for a bot message."""
        msg: JSON = {"message_id": sm.message_id, "date": sm.date,
                     "chat": self.chat_json(sm.chat_id), "from": self.bot_user}
        if sm.kind == "text":
            msg["text"] = sm.plain
            if sm.entities:
                msg["entities"] = sm.entities
        elif sm.plain:
            msg["caption"] = sm.plain
            if sm.entities:
                msg["caption_entities"] = sm.entities
        stored = self._files.get(sm.file_id or "")
        if sm.kind == "document" and stored:
            msg["document"] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                               "file_name": sm.file.filename if sm.file else "file",
                               "file_size": len(stored.data)}
        if sm.kind == "photo" and stored:
            msg["photo"] = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                             "width": 800, "height": 600, "file_size": len(stored.data)}]
        if sm.reply_markup and sm.reply_markup.get("inline_keyboard"):
            msg["reply_markup"] = sm.reply_markup
        if sm.edit_date:
            msg["edit_date"] = sm.edit_date
        target = self._user_msgs.get((sm.chat_id, sm.reply_to_message_id or 0))
        if target:
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        return msg

    def _find(self, p: JSON, what: str) -> SentMessage:
        chat_id = self._chat_id(p)
        if "inline_message_id" in p:
            raise bad("inline messages are not supported by the fake")
        mid = p.get("message_id")
        for sm in self._bot_msgs.get(chat_id, []):
            if sm.message_id == mid and not sm.deleted:
                return sm
        if what == "edit" and (chat_id, mid) in self._user_msgs:
            raise bad("message can't be edited")
        raise bad(f"message to {what} not found")

    @staticmethod
    def _content(text: str | None, parse_mode: str | None, entities: Any, *, limit: int,
                 caption: bool = False) -> tuple[str, list[JSON]]:
        if (parse_mode or "").lower() == "html":
            plain, ents = parse_html(text or "")
        else:  # Markdown modes are not parsed: the raw text counts
            plain, ents = text or "", list(entities or [])
        if not plain.strip() and not caption:
            raise bad("message text is empty")
        if len(plain.strip()) > limit:
            raise bad("message caption is too long" if caption else "message is too long")
        return plain, ents

    @staticmethod
    def _markup(markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup  # reply keyboards, remove_keyboard, force_reply: kept as sent
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad("can't parse inline keyboard button: InlineKeyboardMarkup must be an "
                      "Array of Arrays")
        if any(len(row) > 8 for row in rows) or sum(map(len, rows)) > 100:
            raise bad("BUTTONS_TOO_MUCH: at most 8 buttons a row and 100 in all")
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise bad("can't parse inline keyboard button: Text buttons must have text")
            actions = [a for a in _BUTTON_ACTIONS if a in button]
            if len(actions) != 1:
                raise bad("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button and not (
                    1 <= len(str(button["callback_data"]).encode()) <= 64):
                raise bad("BUTTON_DATA_INVALID")
            if "url" in button and not button["url"]:
                raise bad("BUTTON_URL_INVALID")
        return markup if any(rows) else None

    def _reply_to(self, chat_id: int, p: JSON) -> int | None:
        reply = p.get("reply_parameters") or {}
        mid = reply.get("message_id", p.get("reply_to_message_id"))
        if mid is None:
            return None
        known = (chat_id, mid) in self._user_msgs or any(
            m.message_id == mid for m in self._bot_msgs.get(chat_id, []))
        if not known and not (reply.get("allow_sending_without_reply")
                              or p.get("allow_sending_without_reply")):
            raise bad("message to be replied not found")
        return mid

    def _store(self, chat_id: int, p: JSON, sm: SentMessage) -> JSON:
        sm.reply_to_message_id = self._reply_to(chat_id, p)
        self._bot_msgs[chat_id].append(sm)
        self.sent_times[chat_id].append(time.monotonic())
        return self.message_json(sm)

    # -- Bot API methods (params already decoded)

    def _get_me(self, p: JSON) -> JSON:
        return self.bot_user

    def _set_webhook(self, p: JSON) -> bool:
        url = str(p.get("url") or "")
        if not url.startswith(("http://127.0.0.1", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: an HTTPS URL must be provided")
        self.webhook = {"url": url, "secret_token": p.get("secret_token")}
        return True

    async def post_to_webhook(self, update: JSON, *, secret: str | None = None,
                              url: str | None = None) -> int:
        """Deliver an update the way Telegram does in webhook mode; returns the HTTP status."""
        import aiohttp

        assert self.webhook or url, "no webhook set"
        target = url or self.webhook["url"]
        token = secret if secret is not None else (self.webhook or {}).get("secret_token")
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with aiohttp.ClientSession() as session, session.post(
            target, json=update, headers=headers
        ) as response:
            return response.status

    def _delete_webhook(self, p: JSON) -> bool:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self._pending.clear()
            self._redelivery.clear()
        return True

    def _get_webhook_info(self, p: JSON) -> JSON:
        return {"url": "", "has_custom_certificate": False,
                "pending_update_count": len(self.pending_updates)}

    def _set_my_commands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("commands must be a list of at most 100 BotCommand")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise bad("command description must be 1-256 characters")
        key = (self._scope_key(p.get("scope")), p.get("language_code") or "")
        self._commands[key] = [{"command": c["command"], "description": c["description"]}
                               for c in commands]
        return True

    def _get_my_commands(self, p: JSON) -> list[JSON]:
        return self._commands.get((self._scope_key(p.get("scope")),
                                   p.get("language_code") or ""), [])

    def _delete_my_commands(self, p: JSON) -> bool:
        self._commands.pop((self._scope_key(p.get("scope")), p.get("language_code") or ""), None)
        return True

    def _send_message(self, p: JSON) -> JSON:
        chat_id = self._chat_id(p)
        plain, ents = self._content(p.get("text"), p.get("parse_mode"), p.get("entities"),
                                    limit=4096)
        sm = SentMessage(chat_id, self._next_message_id(chat_id), _now(), text=p.get("text"),
                         parse_mode=p.get("parse_mode"), plain=plain, entities=ents,
                         reply_markup=self._markup(p.get("reply_markup")))
        return self._store(chat_id, p, sm)

    def _send_file(self, p: JSON, kind: str, field_name: str, folder: str) -> JSON:
        chat_id = self._chat_id(p)
        plain, ents = self._content(p.get("caption"), p.get("parse_mode"),
                                    p.get("caption_entities"), limit=1024, caption=True)
        value = p.get(field_name)
        if isinstance(value, UploadedFile):
            upload = value
            ext = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
            stored = self.add_file(upload.data, folder=folder, ext=ext)
        elif isinstance(value, str) and value in self._files:
            stored, upload = self._files[value], None
        elif value:
            raise bad("wrong file identifier/HTTP URL specified")
        else:
            raise bad(f"there is no {field_name} in the request")
        sm = SentMessage(chat_id, self._next_message_id(chat_id), _now(), kind=kind,
                         caption=p.get("caption"), parse_mode=p.get("parse_mode"), plain=plain,
                         entities=ents, reply_markup=self._markup(p.get("reply_markup")),
                         file=upload, file_id=stored.file_id)
        return self._store(chat_id, p, sm)

    def _send_document(self, p: JSON) -> JSON:
        return self._send_file(p, "document", "document", "documents")

    def _send_photo(self, p: JSON) -> JSON:
        return self._send_file(p, "photo", "photo", "photos")

    def _edit(self, sm: SentMessage, plain: str, ents: list[JSON],
              markup: JSON | None) -> JSON:
        if (plain, ents, markup) == (sm.plain, sm.entities, sm.reply_markup):
            raise bad(NOT_MODIFIED)
        sm.history.append(sm.text if sm.kind == "text" else sm.caption)
        sm.plain, sm.entities, sm.reply_markup = plain, ents, markup
        sm.edit_date = _now()
        self.sent_times[sm.chat_id].append(time.monotonic())
        return self.message_json(sm)

    def _edit_message_text(self, p: JSON) -> JSON:
        sm = self._find(p, "edit")
        if sm.kind != "text":
            raise bad("there is no text in the message to edit")
        plain, ents = self._content(p.get("text"), p.get("parse_mode"), p.get("entities"),
                                    limit=4096)
        # Telegram: an edit without reply_markup removes the inline keyboard.
        result = self._edit(sm, plain, ents, self._markup(p.get("reply_markup")))
        sm.text, sm.parse_mode = p.get("text"), p.get("parse_mode")
        return result

    def _edit_message_caption(self, p: JSON) -> JSON:
        sm = self._find(p, "edit")
        if sm.kind == "text":
            raise bad("there is no caption in the message to edit")
        plain, ents = self._content(p.get("caption"), p.get("parse_mode"),
                                    p.get("caption_entities"), limit=1024, caption=True)
        result = self._edit(sm, plain, ents, self._markup(p.get("reply_markup")))
        sm.caption, sm.parse_mode = p.get("caption"), p.get("parse_mode")
        return result

    def _edit_message_reply_markup(self, p: JSON) -> JSON:
        sm = self._find(p, "edit")
        return self._edit(sm, sm.plain, sm.entities, self._markup(p.get("reply_markup")))

    def _answer_callback_query(self, p: JSON) -> bool:
        cb = self._callbacks.get(str(p.get("callback_query_id")))
        if cb is None or cb.answer is not None or (
                time.monotonic() - cb.pressed > self.callback_timeout):
            raise bad(QUERY_TOO_OLD)
        if len(p.get("text") or "") > 200:
            raise bad("MESSAGE_TOO_LONG")
        cb.answer = p
        return True

    def _send_chat_action(self, p: JSON) -> bool:
        self._chat_id(p)
        if p.get("action") not in _ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _get_file(self, p: JSON) -> JSON:
        f = self._files.get(str(p.get("file_id")))
        if f is None:
            raise bad("invalid file_id")
        if len(f.data) > 20 * 1024 * 1024:
            raise bad("file is too big")
        return {"file_id": f.file_id, "file_unique_id": f.file_unique_id,
                "file_size": len(f.data), "file_path": f.file_path}

    def _delete_message(self, p: JSON) -> bool:
        chat_id, mid = self._chat_id(p), p.get("message_id")
        if self._user_msgs.pop((chat_id, mid), None) is not None:
            return True
        self._find(p, "delete").deleted = True
        return True

    def _get_chat_member(self, p: JSON) -> JSON:
        chat_id = self._chat_id(p, sending=False)
        user = self._users.get(p.get("user_id"))  # type: ignore[arg-type]
        if user is None and p.get("user_id") != self.bot_user["id"]:
            raise bad("user not found")
        if chat_id in self._groups:
            group = self._groups[chat_id]
            status = group.status(user) if user else "administrator"
        elif user is not None and user.id == chat_id:
            status = "member"  # a private chat: the user, talking to us
        else:
            raise bad("user not found")
        who = user.to_json() if user else self.bot_user
        return _chat_member(status, who)

    def _get_chat(self, p: JSON) -> JSON:
        chat = self.chat_json(self._chat_id(p, sending=False))
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), True)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}


def _chat_member(status: str, user: JSON) -> JSON:
    """A ChatMember object of the Bot API, with the fields each status must have."""
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False, is_anonymous=False, can_manage_chat=True,
            can_delete_messages=True, can_manage_video_chats=True, can_restrict_members=True,
            can_promote_members=False, can_change_info=True, can_invite_users=True,
            can_post_stories=False, can_edit_stories=False, can_delete_stories=False,
            can_pin_messages=True)
    elif status == "kicked":
        member["until_date"] = 0  # banned for ever
    return member
