"""The webchat adapter: a loopback HTTP chat, built only on the adapter contract.

    POST /messages   {"user": "ann", "id": "m1", "text": "hello"}  (or "choice": "<id>")
                     optional "lang": "en" | "zh" (else the Accept-Language header)
                     -> 202 once the message is durable (handled, or kept in the inbox);
                        400 with a reason in the user's language; 503 when not kept.
    GET /inbox/<user>?after=<seq>
                     -> {"user": ..., "messages": [{"seq", "text", "choices": [{"id",
                        "label"}], "lang", "format", "attachments"}]}: what the bot sent

The client's message id is the event id, so a message posted twice is handled once. The
messages sent are kept in this process's memory only: a restarted adapter starts with an
empty inbox per user, while the conversation itself goes on from the store.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from leavewell.bot.delivery import OutboxItem
from leavewell.bot.incoming import Actor, ConversationRef, Incoming
from leavewell.bot.intake import Outcome, Received
from leavewell.bot.plugin import AdapterContext
from leavewell.bot.texts import PlatformTexts
from leavewell.dialogs.events import ChoicePressed, Command, Event, Start, TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import PLAIN, Renderer
from leavewell.dialogs.script import LANGS
from tests.webchat.settings import WebchatSettings

log = logging.getLogger(__name__)

PLATFORM = "webchat"
TEXTS = Path(__file__).with_name("texts.yaml")
MAX_TEXT = 4000  # characters in one message
MAX_BODY = 64 * 1024  # bytes in one request
_USER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


class Refused(ValueError):
    """A posted message that cannot be taken: `key` names the text that says why."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def payload_of(body: Any, now: float) -> dict[str, Any]:
    """A posted body -> the payload kept in the inbox (with the time it arrived)."""
    if not isinstance(body, dict):
        raise Refused("bad_json")
    user, message_id = body.get("user"), body.get("id")
    if not isinstance(user, str) or not _USER.fullmatch(user):
        raise Refused("bad_user")
    if not isinstance(message_id, str) or not _ID.fullmatch(message_id):
        raise Refused("bad_id")
    lang = body.get("lang")
    if lang is not None and lang not in LANGS:
        raise Refused("bad_lang", langs=", ".join(LANGS))
    given = [k for k in ("text", "choice") if k in body]
    if len(given) != 1 or not isinstance(body[given[0]], str):
        raise Refused("text_or_choice")
    kind = given[0]
    if len(body[kind]) > MAX_TEXT:
        raise Refused("too_long", limit=MAX_TEXT)
    if kind == "choice" and not body[kind].strip():
        raise Refused("text_or_choice")
    payload = {"user": user, "id": message_id, kind: body[kind], "at": now}
    if lang is not None:
        payload["lang"] = lang
    return payload


def ref_of(user: str) -> ConversationRef:
    return ConversationRef(PLATFORM, user, user)


def event_id_of(payload: dict[str, Any]) -> str:
    # Per user: two people's clients may well both number their messages from 1.
    return f"{PLATFORM}:{payload['user']}:{payload['id']}"


def event_of(payload: dict[str, Any]) -> Event:
    at = float(payload["at"])
    lang = payload.get("lang")
    if "choice" in payload:
        return ChoicePressed(at=at, choice=str(payload["choice"]))
    text = str(payload["text"])
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
        head, _, args = stripped[1:].partition(" ")
        name = head.lower()
        if name == "start":
            return Start(at=at, lang_hint=lang)
        return Command(at=at, name=name, args=args.strip(), lang_hint=lang)
    return TextAnswer(at=at, text=text)


class WebchatSender:
    """Keeps what the bot says to each user, rendered, for GET /inbox/<user>."""

    def __init__(self, renderer: Renderer, texts: PlatformTexts, fmt: str) -> None:
        self.renderer = renderer
        self.texts = texts
        self.format = fmt
        self.inboxes: dict[str, list[dict[str, Any]]] = {}
        self._shown: set[int] = set()  # outbox rows: sent at least once, shown once
        self._seq = 0

    async def send(self, item: OutboxItem) -> None:
        if item.id in self._shown:
            return
        outgoing = Outgoing.from_dict(item.payload)
        rendered = self.renderer.render(outgoing, self.format)
        text = rendered.text
        for name in rendered.attachments:  # Capabilities(files=False): say so, in words
            text += "\n\n" + self.texts.render("no_file", outgoing.lang, self.format,
                                               name=name)
        user = str(item.address.get("user_id") or item.address["chat_id"])
        self._seq += 1
        self.inboxes.setdefault(user, []).append({
            "seq": self._seq,
            "text": text,
            "choices": [{"id": c.id, "label": c.label} for c in rendered.choices],
            "lang": outgoing.lang,
            "format": self.format,
            "attachments": list(rendered.attachments),
        })
        self._shown.add(item.id)


class WebchatAdapter:
    """Serves the HTTP chat and is the intake's Interpreter for what is posted."""

    platform = PLATFORM

    def __init__(self, context: AdapterContext, settings: WebchatSettings) -> None:
        assert settings.listen is not None
        self.context = context
        self.intake = context.intake
        self.settings = settings
        self.default_lang = context.default_lang
        self.format = settings.format
        self.texts = PlatformTexts(TEXTS)
        self.sender = WebchatSender(context.renderer, self.texts, self.format)
        self._runner: web.AppRunner | None = None
        self.host = ""
        self.port = 0

    @property
    def url(self) -> str:
        """Where it serves (the port is known once started: WEBCHAT_LISTEN may say 0)."""
        return f"http://{self.host}:{self.port}"

    @property
    def idle(self) -> bool:
        return self.intake.idle

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.context.register_sender(PLATFORM, self.sender)
        await self.intake.replay(self)  # before anything new is taken
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/messages", self._on_message)
        app.router.add_get("/inbox/{user}", self._on_inbox)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await runner.setup()
        host, _, port = (self.settings.listen or "").rpartition(":")
        try:
            await web.TCPSite(runner, host, int(port)).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.host, self.port = runner.addresses[0][:2]
        log.info("webchat serving on %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # no new posts; the ones in hand finish
            self._runner = None
        await self.intake.drain(timeout=10)

    # -- HTTP --------------------------------------------------------------------------

    async def _on_message(self, request: web.Request) -> web.Response:
        now = time.time()
        try:
            body = json.loads(await request.text())
        except (ValueError, UnicodeDecodeError):
            return self._refuse(request, None, Refused("bad_json"))
        try:
            payload = payload_of(body, now)
        except Refused as refused:
            return self._refuse(request, body, refused)
        received = Received(event_id_of(payload), ref_of(payload["user"]).key, payload)
        try:
            await self.intake.receive(self, [received])
        except Exception:
            log.exception("could not keep webchat message %s", received.event_id)
            return self._refuse(request, body, Refused("not_kept"), status=503)
        return web.json_response({"id": payload["id"], "status": "accepted"}, status=202)

    async def _on_inbox(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        if not _USER.fullmatch(user):
            return self._refuse(request, None, Refused("bad_user"))
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            after = 0
        messages = [m for m in self.sender.inboxes.get(user, []) if m["seq"] > after]
        return web.json_response({"user": user, "messages": messages})

    def _refuse(self, request: web.Request, body: Any, refused: Refused,
                status: int = 400) -> web.Response:
        lang = self._lang(request, body)
        return web.json_response({
            "error": refused.key,
            "message": self.texts.render(refused.key, lang, PLAIN, **refused.params),
        }, status=status)

    def _lang(self, request: web.Request, body: Any) -> str:
        """The language to refuse in: the message's own, else the browser's."""
        if isinstance(body, dict) and body.get("lang") in LANGS:
            return str(body["lang"])
        for part in request.headers.get("Accept-Language", "").split(","):
            code = part.strip()[:2].lower()
            if code in LANGS:
                return code
        return self.default_lang

    # -- the intake's Interpreter ------------------------------------------------------

    def order_key(self, payload: dict[str, Any]) -> str | None:
        return ref_of(str(payload["user"])).key

    async def interpret(self, received: Received) -> Incoming | None:
        payload = received.payload
        ref = ref_of(str(payload["user"]))
        return Incoming(ref, event_of(payload), received.event_id,
                        actor=Actor(name=ref.user_id, reach=ref.address()))

    async def settled(self, received: Received, outcome: Outcome) -> None:
        if outcome.error is not None:
            log.warning("webchat message %s: %s", received.event_id, outcome.error)
