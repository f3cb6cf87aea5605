"""A faithful fake of Discord (REST API v10 + gateway) for driving the real discord.py client.

Usage::

    async with FakeDiscord() as dc:
        dc.add_guild(1, "Guild", channels=[{"id": 10, "name": "general"}], members=[alice])
        dc.install()                      # points discord.py's Route.BASE / DEFAULT_GATEWAY here
        task = asyncio.create_task(client.start("token"))
        await dc.wait_for(lambda: dc.client_ready)
        msg = await dc.message_create(10, alice, "hello")

Everything runs on 127.0.0.1.  Gateway events go out as zlib-stream frames when the client
asks for ``compress=zlib-stream`` (discord.py's default) and as plain text frames otherwise.
Requests made by the bot are recorded in ``dc.requests``; errors this fake answered with because
the bot did something Discord would refuse are in ``dc.errors`` (injected faults are not).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import socket
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

API = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway intents (bits) and permissions (bits) that the fake looks at.
I_GUILDS, I_MEMBERS, I_PRESENCES = 1 << 0, 1 << 1, 1 << 8
I_GUILD_MESSAGES, I_DM_MESSAGES, I_MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15
PRIVILEGED_INTENTS = I_MEMBERS | I_PRESENCES | I_MESSAGE_CONTENT

P_ADMIN, P_MANAGE_GUILD, P_ADD_REACTIONS = 1 << 3, 1 << 5, 1 << 6
P_VIEW, P_SEND = 1 << 10, 1 << 11
P_MANAGE_MESSAGES, P_EMBED, P_ATTACH, P_HISTORY = 1 << 13, 1 << 14, 1 << 15, 1 << 16
P_USE_COMMANDS, P_MANAGE_THREADS, P_PUBLIC_THREADS = 1 << 31, 1 << 34, 1 << 35
P_PRIVATE_THREADS, P_SEND_IN_THREADS = 1 << 36, 1 << 38
P_ALL = (1 << 51) - 1
EVERYONE_DEFAULT = (P_VIEW | P_SEND | P_EMBED | P_ATTACH | P_HISTORY | P_ADD_REACTIONS
                    | P_USE_COMMANDS | P_PUBLIC_THREADS | P_PRIVATE_THREADS | P_SEND_IN_THREADS)
BOT_DEFAULT = EVERYONE_DEFAULT | P_MANAGE_THREADS

TEXT, DM, NEWS, PUBLIC_THREAD, PRIVATE_THREAD = 0, 1, 5, 11, 12
THREAD_TYPES = {10, PUBLIC_THREAD, PRIVATE_THREAD}
SELECT_TYPES = {3, 5, 6, 7, 8}
F_EPHEMERAL, F_LOADING, F_COMPONENTS_V2 = 64, 128, 1 << 15
LOCALES = frozenset((
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
    "th", "zh-CN", "ja", "zh-TW", "ko"))
NONCE_WINDOW = 120.0  # seconds an enforced nonce is remembered ("the past few minutes")
MENTION_RE = re.compile(r"@everyone|@here|<@(!|&)?(\d+)>")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _name_ok(name: Any) -> bool:
    """Discord's `^[-_\\p{L}\\p{N}]{1,32}$` for command/option names (lowercase where cased)."""
    return (isinstance(name, str) and 1 <= len(name) <= 32
            and all(c.isalnum() or c in "-_" for c in name) and name == name.lower())


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str,
                 errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors


class _FormErrors:
    """Collects Discord's nested `errors` object for a 50035 Invalid Form Body."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: str, code: str, message: str) -> None:
        node = self.tree
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def length(self, path: str, value: Any, lo: int, hi: int) -> None:
        if not isinstance(value, str) or not lo <= len(value) <= hi:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length.")

    def raise_if_any(self) -> None:
        if self.tree:
            raise ApiError(400, 50035, "Invalid Form Body", self.tree)


@dataclass(eq=False)
class FakeUser:
    id: int
    name: str
    locale: str = "en-US"
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "username": self.name, "discriminator": "0",
                "global_name": self.global_name or self.name, "avatar": None, "bot": self.bot,
                "public_flags": 0, "flags": 0, "banner": None, "accent_color": None}


@dataclass
class RecordedRequest:
    method: str
    path: str  # relative to /api/v10, e.g. "/channels/10/messages"
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None  # JSON body, or the parsed `payload_json` part of a multipart body
    files: list[dict[str, Any]] = field(default_factory=list)  # name, filename, content_type, data
    status: int = 0
    response: Any = None
    at: float = 0.0
    port: int = 0  # the fake's port it came in by (see `also_listen`)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass(eq=False)
class StoredMessage:
    """A message as Discord stores it now (edits applied).  `data` is the Discord payload."""

    data: dict[str, Any]
    allowed_mentions: dict[str, Any] | None = None
    by_bot: bool = False
    interaction_id: int | None = None
    deleted: bool = False
    files: dict[int, bytes] = field(default_factory=dict)

    id = property(lambda self: int(self.data["id"]))
    channel_id = property(lambda self: int(self.data["channel_id"]))
    content = property(lambda self: self.data["content"])
    embeds = property(lambda self: self.data["embeds"])
    components = property(lambda self: self.data["components"])
    flags = property(lambda self: self.data.get("flags", 0))
    ephemeral = property(lambda self: bool(self.flags & F_EPHEMERAL))

    @property
    def items(self) -> list[dict[str, Any]]:
        """Interactive components (buttons, selects, text inputs) flattened out of layouts."""
        return [c for c in _walk(self.components) if c.get("type") in (2, 4, *SELECT_TYPES)]

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.items if "custom_id" in c]


def _walk(components: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for c in components or []:
        yield c
        yield from _walk(c.get("components", []))
        for key in ("component", "accessory"):
            if isinstance(c.get(key), dict):
                yield from _walk([c[key]])


@dataclass(eq=False)
class FakeInteraction:
    id: int
    token: str
    type: int  # 2 command, 3 component, 5 modal submit
    user: FakeUser
    channel_id: int
    guild_id: int | None
    payload: dict[str, Any]
    dispatched_at: float = 0.0
    message_id: int | None = None  # the message a component sits on
    acked_at: float | None = None
    response_type: int | None = None
    original_id: int | None = None  # message id of "@original"
    followup_ids: list[int] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    late: bool = False  # an acknowledgement came after the window

    @property
    def acked(self) -> bool:
        return self.acked_at is not None

    @property
    def ack_latency(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.dispatched_at


@dataclass(eq=False)
class _Session:
    id: str
    token: str
    intents: int
    shard_id: int = 0  # IDENTIFY's `shard: [id, count]`; [0, 1] when it has none
    shard_count: int = 1
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    conn: _Conn | None = None

    def carries(self, guild_id: int | None) -> bool:
        """Discord's rule: a guild's events go to shard (guild_id >> 22) % shard_count,
        DMs (no guild) to shard 0."""
        return shard_of(guild_id, self.shard_count) == self.shard_id


def shard_of(guild_id: int | None, shard_count: int) -> int:
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    zlib_stream: Any  # a zlib compressobj shared by every frame of this connection, or None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    live: bool = False  # dispatches go straight out (after READY or a finished RESUME replay)

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        async with self.lock:
            if self.ws.closed:
                return
            with contextlib.suppress(ConnectionResetError):
                await self._send(text)

    async def _send(self, text: str) -> None:
        if self.zlib_stream is None:
            await self.ws.send_str(text)
        else:
            data = self.zlib_stream.compress(text.encode()) + self.zlib_stream.flush(
                zlib.Z_SYNC_FLUSH)  # ends with b"\x00\x00\xff\xff"
            await self.ws.send_bytes(data)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header for equality and would treat a
    # "; charset=utf-8" body as text.
    hdrs = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}", "X-RateLimit-Reset-After": "1.000",
            "Via": "1.1 google", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status,
                        content_type="application/json", headers=hdrs)


def _local_port(request: web.Request) -> int:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else 0


def _no_content() -> web.Response:
    return web.Response(status=204, headers={"X-RateLimit-Limit": "50",
                                             "X-RateLimit-Remaining": "49",
                                             "X-RateLimit-Reset-After": "1.000"})


class FakeDiscord:
    """Fake Discord: REST under ``/api/v10`` and the gateway at ``/gateway`` on 127.0.0.1."""

    def __init__(self, *, application_id: int = 900_000_000_000_000_001,
                 bot_name: str = "leavewell", token: str | None = None, ack_window: float = 3.0,
                 heartbeat_interval_ms: int = 41_250, allowed_intents: int = -1,
                 shards: int = 1) -> None:
        self.application_id = application_id
        self.bot = FakeUser(application_id, bot_name, bot=True)
        self.owner = FakeUser(application_id + 1, "app-owner")
        self.token = token  # None: any non-empty token is accepted
        self.ack_window = ack_window
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allowed_intents = allowed_intents  # privileged intents the app may use
        self.recommended_shards = shards  # what GET /gateway/bot answers
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.thread_members: dict[int, set[int]] = {}
        self.messages: dict[int, StoredMessage] = {}
        self._by_channel: dict[int, list[StoredMessage]] = defaultdict(list)
        self.interactions: dict[int, FakeInteraction] = {}
        self.modals: dict[str, tuple[FakeInteraction, dict[str, Any]]] = {}
        self.commands: dict[int | None, dict[str, dict[str, Any]]] = {}  # guild id (None: global)
        self.requests: list[RecordedRequest] = []
        self.errors: list[dict[str, Any]] = []
        self.dispatched: list[dict[str, Any]] = []  # every dispatch frame, in order
        self.gateway_received: list[dict[str, Any]] = []  # every payload the client sent
        self.gateway_queries: list[dict[str, str]] = []  # query string of each connection
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.client_connected = asyncio.Event()  # set after READY+GUILD_CREATEs or RESUMED
        # One gateway session per shard (shard id -> session); an unsharded client's is 0.
        self.sessions: dict[int, _Session] = {}
        self.past_sessions: list[_Session] = []  # every session, replaced ones included
        self._faults: list[dict[str, Any]] = []
        self._dm_by_user: dict[int, int] = {}
        self._nonces: dict[str, tuple[StoredMessage, float]] = {}  # the bot's, enforced
        self._last_snowflake = 0
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._restore: Callable[[], None] | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{cid}/{aid}/{filename}", self._attachment)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._restore:
            self._restore()
        for session in list(self.sessions.values()):
            if session.conn:
                await session.conn.ws.close(code=1001)
        if self._runner:
            await self._runner.cleanup()

    async def also_listen(self) -> int:
        """Serve on one more port of 127.0.0.1 (the same fake): a client given its own port
        (bot processes, which cannot be told apart otherwise) leaves it on every request."""
        assert self._runner is not None, "start the fake first"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        return int(sock.getsockname()[1])

    def api_base_on(self, port: int) -> str:
        return f"http://127.0.0.1:{port}{API}"

    def gateway_url_on(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/gateway"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.http_base + API

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def install(self) -> Callable[[], None]:
        """Point discord.py at this fake; returns a function that restores the old targets."""
        import yarl
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        old = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

        def restore() -> None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old
            self._restore = None

        self._restore = restore
        return restore

    # ------------------------------------------------------------------ world set-up
    def snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_snowflake = max(ms << 22, self._last_snowflake + 1)
        return self._last_snowflake

    def user(self, user_id: int, name: str, locale: str = "en-US", *,
             global_name: str | None = None, bot: bool = False) -> FakeUser:
        u = FakeUser(user_id, name, locale, global_name, bot)
        self.users[user_id] = u
        return u

    def add_guild(self, guild_id: int, name: str, channels: Iterable[dict[str, Any] | int] = (),
                  members: Iterable[FakeUser | tuple[FakeUser, list[int]]] = (), *,
                  roles: Iterable[dict[str, Any]] = (), owner: FakeUser | None = None,
                  everyone_permissions: int = EVERYONE_DEFAULT,
                  bot_permissions: int = BOT_DEFAULT, locale: str = "en-US") -> dict[str, Any]:
        """Configure a guild the bot is in (call before the client connects, or dispatch
        GUILD_CREATE with `dispatch_raw("GUILD_CREATE", dc.guild_payload(id))`).  Channels are
        partial Discord channel dicts (``{"id": 10, "name": "general", "permission_overwrites":
        [...]}``) or bare ids; without any, one "general" text channel gets a snowflake id.
        The bot joins with a managed role holding `bot_permissions`."""
        bot_role_id = self.snowflake()
        bot_role = {"id": str(bot_role_id), "name": self.bot.name, "managed": True,
                    "permissions": str(bot_permissions), "tags": {"bot_id": str(self.bot.id)}}
        role_list = [{"id": str(guild_id), "name": "@everyone",
                      "permissions": str(everyone_permissions)}, bot_role, *roles]
        g: dict[str, Any] = {
            "id": guild_id, "name": name, "locale": locale,
            "owner_id": (owner or self.owner).id,
            "roles": [{"position": i, "color": 0, "colors": {"primary_color": 0}, "hoist": False,
                       "managed": False, "mentionable": False, "icon": None,
                       "unicode_emoji": None, "flags": 0, **r, "id": str(r["id"]),
                       "permissions": str(r.get("permissions", 0))}
                      for i, r in enumerate(role_list)],
            "members": {}, "joined_at": _now_iso(),
        }
        self.guilds[guild_id] = g
        self._add_member(g, self.bot, [bot_role_id])
        for m in members:
            user, role_ids = m if isinstance(m, tuple) else (m, [])
            self._add_member(g, user, role_ids)
        for pos, ch in enumerate(channels or [{"id": self.snowflake(), "name": "general"}]):
            spec = {"id": ch} if isinstance(ch, int) else dict(ch)
            cid = int(spec["id"])
            self.channels[cid] = {
                "type": TEXT, "name": f"channel-{cid}", "position": pos, "parent_id": None,
                "permission_overwrites": [], "topic": None, "nsfw": False, "last_message_id": None,
                "rate_limit_per_user": 0, "default_auto_archive_duration": 1440, "flags": 0,
                **spec, "id": str(cid), "guild_id": str(guild_id)}
        return g

    def _add_member(self, g: dict[str, Any], user: FakeUser, role_ids: list[int],
                    nick: str | None = None) -> None:
        self.users.setdefault(user.id, user)
        g["members"][user.id] = {"roles": [str(r) for r in role_ids], "nick": nick,
                                 "joined_at": _now_iso()}

    def add_member(self, guild_id: int, user: FakeUser, roles: Iterable[int] = (), *,
                   nick: str | None = None) -> FakeUser:
        """A user joins a guild (after start-up too: members come in interaction payloads,
        with their role ids and their permissions in the channel, as on Discord)."""
        self._add_member(self.guilds[guild_id], user, list(roles), nick)
        return user

    def add_role(self, guild_id: int, role_id: int, name: str, permissions: int = 0
                 ) -> dict[str, Any]:
        """A role in a guild (before the client connects: it comes with GUILD_CREATE)."""
        g = self.guilds[guild_id]
        role = {"id": str(role_id), "name": name, "permissions": str(permissions),
                "position": len(g["roles"]), "color": 0, "colors": {"primary_color": 0},
                "hoist": False, "managed": False, "mentionable": False, "icon": None,
                "unicode_emoji": None, "flags": 0}
        g["roles"].append(role)
        return role

    def member_payload(self, guild_id: int, user_id: int, *, with_user: bool = True,
                       channel_id: int | None = None) -> dict[str, Any]:
        m = self.guilds[guild_id]["members"][user_id]
        out: dict[str, Any] = {"roles": list(m["roles"]), "nick": m["nick"], "avatar": None,
                               "banner": None, "joined_at": m["joined_at"], "premium_since": None,
                               "deaf": False, "mute": False, "flags": 0, "pending": False,
                               "communication_disabled_until": None}
        if with_user:
            out["user"] = self.users[user_id].payload()
        if channel_id is not None:
            out["permissions"] = str(self.permissions_for(user_id, channel_id))
        return out

    def channel_payload(self, channel_id: int) -> dict[str, Any]:
        ch = dict(self.channels[channel_id])
        if ch["type"] == DM:
            ch["recipients"] = [self.users[int(ch.pop("_recipient"))].payload()]
        return ch

    def dm_channel(self, user: FakeUser | int) -> int:
        """The DM channel between the bot and `user` (created on first use); returns its id."""
        u = self._u(user)
        if u.id not in self._dm_by_user:
            cid = self.snowflake()
            self.channels[cid] = {"id": str(cid), "type": DM, "last_message_id": None, "flags": 0,
                                  "_recipient": u.id}
            self._dm_by_user[u.id] = cid
        return self._dm_by_user[u.id]

    def register_commands(self, commands: list[dict[str, Any]], guild_id: int | None = None,
                          ) -> list[dict[str, Any]]:
        """Store commands as if a previous run had synced them (validated like the PUT)."""
        return self._store_commands(commands, guild_id)

    def permissions_for(self, user_id: int, channel_id: int) -> int:
        ch = self.channels[channel_id]
        if ch["type"] == DM:
            return P_VIEW | P_SEND | P_EMBED | P_ATTACH | P_HISTORY | P_ADD_REACTIONS
        if ch["type"] in THREAD_TYPES:
            ch = self.channels[int(ch["parent_id"])]
        g = self.guilds[int(ch["guild_id"])]
        if user_id == g["owner_id"]:
            return P_ALL
        my_roles = set(g["members"][user_id]["roles"])
        roles = {r["id"]: int(r["permissions"]) for r in g["roles"]}
        perms = roles[str(g["id"])]
        for rid in my_roles:
            perms |= roles.get(rid, 0)
        if perms & P_ADMIN:
            return P_ALL
        ows = {o["id"]: (int(o["allow"]), int(o["deny"])) for o in ch["permission_overwrites"]}
        allow, deny = ows.get(str(g["id"]), (0, 0))
        perms = (perms & ~deny) | allow
        allow = deny = 0
        for rid in my_roles:
            a, d = ows.get(rid, (0, 0))
            allow, deny = allow | a, deny | d
        perms = (perms & ~deny) | allow
        allow, deny = ows.get(str(user_id), (0, 0))
        perms = (perms & ~deny) | allow
        return perms if perms & P_VIEW else 0

    # ------------------------------------------------------------------ gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        zs = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        conn = _Conn(ws, zs)
        await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                         "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(msg.data)
                self.gateway_received.append(payload)
                op, d = payload.get("op"), payload.get("d")
                if op == 1:
                    await conn.send({"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    await self._identify(conn, d)
                elif op == 6:
                    await self._resume(conn, d)
                elif op == 8:
                    await self._request_members(conn, d)
        finally:
            for session in self.sessions.values():
                if session.conn is conn:
                    session.conn = None
                    self.client_connected.clear()
        return ws

    @property
    def session(self) -> _Session | None:
        """Shard 0's session (an unsharded client's only one)."""
        return self.sessions.get(0)

    def connected_shards(self) -> set[int]:
        """Shards whose session has a live connection now."""
        return {i for i, s in self.sessions.items() if s.conn is not None and s.conn.live}

    def session_for(self, guild_id: int | None) -> _Session | None:
        """The session that carries this guild's events (DMs: shard 0's)."""
        return next((s for s in self.sessions.values() if s.carries(guild_id)), None)

    def _token_ok(self, token: str | None) -> bool:
        token = (token or "").removeprefix("Bot ").strip()
        return bool(token) and (self.token is None or token == self.token)

    async def _identify(self, conn: _Conn, d: dict[str, Any]) -> None:
        self.identifies.append(d)
        if not self._token_ok(d.get("token")):
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int):
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.allowed_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = d.get("shard", [0, 1])
        if (not isinstance(shard, list) or len(shard) != 2
                or not all(isinstance(n, int) for n in shard)
                or not 0 <= shard[0] < shard[1]):
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        shard_id, shard_count = shard
        old = self.sessions.get(shard_id)
        if old and old.conn and old.conn is not conn:
            await old.conn.ws.close(code=4000)
        session = _Session(uuid.uuid4().hex, d["token"], intents, shard_id, shard_count,
                           conn=conn)
        self.sessions[shard_id] = session
        self.past_sessions.append(session)
        conn.live = True
        mine = [gid for gid in self.guilds if session.carries(gid)]
        await self._dispatch_to(session, "READY", {
            "v": 10, "user": {**self.bot.payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(gid), "unavailable": True} for gid in mine],
            **({"shard": [shard_id, shard_count]} if "shard" in d else {}),
            "session_id": session.id, "resume_gateway_url": self.gateway_url,
            "session_type": "normal", "private_channels": [], "relationships": [],
            "presences": [], "guild_join_requests": [], "geo_ordered_rtc_regions": [],
            "application": {"id": str(self.application_id), "flags": 0},
            "user_settings": {}, "auth_session_id_hash": "x", "_trace": ["fake-discord"],
        })
        for gid in mine:
            await self._dispatch_to(session, "GUILD_CREATE", self.guild_payload(gid))
        self.client_connected.set()

    async def _resume(self, conn: _Conn, d: dict[str, Any]) -> None:
        self.resumes.append(d)
        s = next((x for x in self.sessions.values() if x.id == d.get("session_id")), None)
        if s is None or not self._token_ok(d.get("token")):
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        if s.conn and s.conn is not conn:
            await s.conn.ws.close(code=4000)
        s.conn = conn
        seq = d.get("seq") or 0
        i = 0
        while i < len(s.log):  # events dispatched meanwhile are appended and replayed in order
            if s.log[i]["s"] > seq:
                await conn.send(s.log[i])
            i += 1
        conn.live = True
        await self._dispatch_to(s, "RESUMED", {"_trace": ["fake-discord"]})
        self.client_connected.set()

    async def _request_members(self, conn: _Conn, d: dict[str, Any]) -> None:
        gid = int(d["guild_id"])
        query, ids = d.get("query") or "", {int(u) for u in d.get("user_ids") or []}
        members = [self.member_payload(gid, uid) for uid in self.guilds[gid]["members"]
                   if (not ids or uid in ids) and self.users[uid].name.startswith(query)]
        if d.get("limit"):
            members = members[: d["limit"]]
        session = next((x for x in self.sessions.values() if x.conn is conn), None)
        if session is None:
            return
        await self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", {
            "guild_id": str(gid), "members": members, "chunk_index": 0, "chunk_count": 1,
            "not_found": [], "nonce": d.get("nonce")})

    def guild_payload(self, guild_id: int) -> dict[str, Any]:
        g = self.guilds[guild_id]
        session = self.session_for(guild_id)
        intents = session.intents if session else -1
        # Discord: without GUILD_PRESENCES only the bot (and voice users) come with GUILD_CREATE;
        # discord.py then asks for the rest with op 8 if it has GUILD_MEMBERS.
        member_ids = list(g["members"]) if intents & I_PRESENCES else [self.bot.id]
        chans = [self.channel_payload(cid) for cid, c in self.channels.items()
                 if c.get("guild_id") == str(guild_id)]
        return {
            "id": str(guild_id), "name": g["name"], "icon": None, "splash": None, "banner": None,
            "description": None, "owner_id": str(g["owner_id"]), "roles": g["roles"],
            "emojis": [], "stickers": [], "features": [], "preferred_locale": g["locale"],
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "premium_subscription_count": 0, "premium_progress_bar_enabled": False,
            "afk_channel_id": None, "afk_timeout": 300, "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "application_id": None,
            "public_updates_channel_id": None, "safety_alerts_channel_id": None,
            "vanity_url_code": None, "max_members": 500_000, "max_video_channel_users": 25,
            "joined_at": g["joined_at"], "large": False, "unavailable": False, "lazy": True,
            "member_count": len(g["members"]),
            "members": [self.member_payload(guild_id, uid) for uid in member_ids],
            "channels": [c for c in chans if c["type"] not in THREAD_TYPES],
            "threads": [c for c in chans if c["type"] in THREAD_TYPES
                        and (c["type"] != PRIVATE_THREAD
                             or self.bot.id in self.thread_members.get(int(c["id"]), set()))],
            "presences": [], "voice_states": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }

    def _visible(self, msg: dict[str, Any], intents: int | None = None) -> dict[str, Any]:
        """Apply the message-content intent the way Discord does for guild messages."""
        if intents is None:  # a REST read: as the guild's session identified
            session = self.session_for(int(msg["guild_id"]) if msg.get("guild_id") else None)
            intents = session.intents if session else -1
        if (intents & I_MESSAGE_CONTENT or not msg.get("guild_id")
                or msg["author"]["id"] == str(self.bot.id)
                or any(m["id"] == str(self.bot.id) for m in msg.get("mentions", []))):
            return msg
        return {**msg, "content": "", "embeds": [], "attachments": [], "components": []}

    async def _dispatch(self, t: str, d: dict[str, Any]) -> dict[str, Any] | None:
        """Send an event to the session of the shard that carries its guild (DMs: shard
        0), as Discord does; with no such session the event is gone."""
        gid = d.get("id") if t.startswith("GUILD_") and "guild_id" not in d else d.get("guild_id")
        frame = None
        for s in list(self.sessions.values()):
            if s.carries(int(gid) if gid else None):
                frame = await self._dispatch_to(s, t, d) or frame
        return frame

    async def _dispatch_to(self, s: _Session, t: str, d: dict[str, Any]
                           ) -> dict[str, Any] | None:
        if t.startswith("MESSAGE_"):
            need = I_GUILD_MESSAGES if d.get("guild_id") else I_DM_MESSAGES
            if not s.intents & need:
                return None
            if "content" in d:
                d = self._visible(d, s.intents)
        s.seq += 1
        frame = {"op": 0, "t": t, "s": s.seq, "d": d}
        s.log.append(frame)
        self.dispatched.append(frame)
        if s.conn is not None and s.conn.live:
            await s.conn.send(frame)
        return frame

    async def dispatch_raw(self, t: str, d: dict[str, Any]) -> dict[str, Any] | None:
        return await self._dispatch(t, d)

    async def redispatch_last(self, t: str) -> dict[str, Any] | None:
        """Send the last `t` event again with the same payload (a new sequence number)."""
        last = next(f for f in reversed(self.dispatched) if f["t"] == t)
        return await self._dispatch(t, last["d"])

    async def send_op(self, op: int, d: Any = None, *, shard: int = 0) -> None:
        """Send a raw non-dispatch opcode (7 reconnect, 9 invalid session, ...)."""
        session = self.sessions.get(shard)
        assert session and session.conn, "no client connected"
        await session.conn.send({"op": op, "d": d, "s": None, "t": None})

    async def disconnect_client(self, code: int = 4000, *, shard: int = 0) -> None:
        """Close the client's websocket (4000 is resumable); it should reconnect and RESUME."""
        session = self.sessions.get(shard)
        assert session and session.conn, "no client connected"
        conn = session.conn
        session.conn = None
        self.client_connected.clear()
        await conn.ws.close(code=code)

    # ------------------------------------------------------------------ user-side events
    def _u(self, user: FakeUser | int) -> FakeUser:
        u = self.users.get(user if isinstance(user, int) else user.id)
        assert u is not None, f"unknown user {user!r}: create it with dc.user(...)"
        return u

    def _guild_of(self, channel_id: int) -> int | None:
        assert channel_id in self.channels, f"unknown channel {channel_id}"
        gid = self.channels[channel_id].get("guild_id")
        return int(gid) if gid else None

    def _mentions(self, content: str, guild_id: int | None) -> list[dict[str, Any]]:
        out = []
        for m in MENTION_RE.finditer(content):
            if m.group(2) and m.group(1) != "&" and int(m.group(2)) in self.users:
                uid = int(m.group(2))
                p = self.users[uid].payload()
                if guild_id and uid in self.guilds[guild_id]["members"]:
                    p["member"] = self.member_payload(guild_id, uid, with_user=False)
                out.append(p)
        return out

    def _attachment_payload(self, channel_id: int, spec: str | dict[str, Any],
                            files: dict[int, bytes]) -> dict[str, Any]:
        spec = {"filename": spec} if isinstance(spec, str) else spec
        aid, data = self.snowflake(), spec.get("data", b"")
        data = data.encode() if isinstance(data, str) else data
        files[aid] = data
        url = f"{self.http_base}/attachments/{channel_id}/{aid}/{spec['filename']}"
        return {"id": str(aid), "filename": spec["filename"], "size": len(data), "url": url,
                "proxy_url": url, "content_type": spec.get("content_type", "text/plain"),
                "description": spec.get("description"),
                **{k: spec[k] for k in ("duration_secs", "waveform") if k in spec}}

    async def message_create(self, channel_id: int, author: FakeUser | int, content: str = "", *,
                             guild_id: int | None = None,
                             attachments: Iterable[str | dict[str, Any]] = (),
                             embeds: list[dict[str, Any]] | None = None,
                             reply_to: int | None = None) -> StoredMessage:
        """A user posts a message (guild channel, thread or DM channel from `dm_channel`)."""
        user = self._u(author)
        guild_id = guild_id or self._guild_of(channel_id)
        sm = StoredMessage({})
        sm.data = self._message_payload(channel_id, user, content, embeds or [], [], 0)
        sm.data["attachments"] = [self._attachment_payload(channel_id, a, sm.files)
                                  for a in attachments]
        if reply_to is not None:
            self._attach_reference(sm.data, channel_id, {"message_id": reply_to})
        self._store(sm)
        await self._dispatch("MESSAGE_CREATE", self._gateway_message(sm))
        return sm

    async def thread_create(self, parent_id: int, name: str, owner: FakeUser | int, *,
                            private: bool = True, members: Iterable[FakeUser | int] = ()
                            ) -> dict[str, Any]:
        """A user creates a thread; THREAD_CREATE goes out if the bot can see it."""
        th = self._new_thread(parent_id, name, self._u(owner).id,
                              PRIVATE_THREAD if private else PUBLIC_THREAD, 1440, True)
        tid = int(th["id"])
        for m in members:
            self.thread_members[tid].add(self._u(m).id)
        th["member_count"] = len(self.thread_members[tid])
        if not private or self.bot.id in self.thread_members[tid]:
            await self._dispatch("THREAD_CREATE", {**th, "newly_created": True})
        return th

    def _interaction_base(self, itype: int, user: FakeUser, channel_id: int,
                          data: dict[str, Any], locale: str | None) -> FakeInteraction:
        iid, token = self.snowflake(), "aW50ZXJhY3Rpb24" + uuid.uuid4().hex + uuid.uuid4().hex
        gid = self._guild_of(channel_id)
        p: dict[str, Any] = {
            "id": str(iid), "application_id": str(self.application_id), "type": itype,
            "data": data, "channel_id": str(channel_id),
            "channel": self.channel_payload(channel_id),
            "token": token, "version": 1, "locale": locale or user.locale,
            "app_permissions": str(self.permissions_for(self.bot.id, channel_id)),
            "entitlements": [], "entitlement_sku_ids": [], "attachment_size_limit": 10_485_760,
            "authorizing_integration_owners": {"0": str(gid)} if gid else {"1": str(user.id)},
            "context": 0 if gid else 1,
        }
        if gid:
            assert user.id in self.guilds[gid]["members"], f"{user.name} is not in guild {gid}"
            p.update(guild_id=str(gid), guild_locale=self.guilds[gid]["locale"],
                     guild={"id": str(gid), "locale": self.guilds[gid]["locale"], "features": []},
                     member=self.member_payload(gid, user.id, channel_id=channel_id))
        else:
            p["user"] = user.payload()
        ix = FakeInteraction(iid, token, itype, user, channel_id, gid, p)
        self.interactions[iid] = ix
        return ix

    async def _send_interaction(self, ix: FakeInteraction) -> FakeInteraction:
        ix.dispatched_at = asyncio.get_running_loop().time()
        await self._dispatch("INTERACTION_CREATE", ix.payload)
        return ix

    async def slash_command(self, user: FakeUser | int, name: str,
                            options: dict[str, Any] | None = None, *, guild_id: int | None = None,
                            channel_id: int | None = None, locale: str | None = None
                            ) -> FakeInteraction:
        """A user runs ``/name`` (``"group sub"`` for subcommands).  The command must have been
        synced (or `register_commands`-ed): Discord cannot deliver an unknown command."""
        u = self._u(user)
        if channel_id is None:
            channel_id = (next(int(c["id"]) for c in self.channels.values()
                               if c.get("guild_id") == str(guild_id) and c["type"] == TEXT)
                          if guild_id else self.dm_channel(u))
        gid = self._guild_of(channel_id)
        root, *subs = name.split()
        cmd, cmd_gid = None, None
        if gid and root in self.commands.get(gid, {}):
            cmd, cmd_gid = self.commands[gid][root], gid
        elif root in self.commands.get(None, {}):
            cmd = self.commands[None][root]
        assert cmd is not None, (f"/{root} is not registered for guild {gid} or globally; "
                                 f"known: {[(g, list(c)) for g, c in self.commands.items()]}")
        data: dict[str, Any] = {"id": cmd["id"], "name": root, "type": 1}
        if cmd_gid:
            data["guild_id"] = str(cmd_gid)
        target, spec_opts = data, cmd.get("options", [])
        for sub in subs:
            spec = next((o for o in spec_opts if o["name"] == sub and o["type"] in (1, 2)), None)
            assert spec, f"/{name}: unknown subcommand {sub!r}"
            node = {"name": sub, "type": spec["type"], "options": []}
            target.setdefault("options", []).append(node)
            target, spec_opts = node, spec.get("options", [])
        resolved: dict[str, dict[str, Any]] = {}
        for key, value in (options or {}).items():
            spec = next((o for o in spec_opts if o["name"] == key), None)
            assert spec, f"/{name}: unknown option {key!r}; has {[o['name'] for o in spec_opts]}"
            if spec.get("choices"):
                assert value in [c["value"] for c in spec["choices"]], \
                    f"/{name}: {value!r} is not a choice of {key!r}"
            if spec["type"] == 6:  # user
                ou = self._u(value)
                value = str(ou.id)
                resolved.setdefault("users", {})[value] = ou.payload()
                if gid and ou.id in self.guilds[gid]["members"]:
                    resolved.setdefault("members", {})[value] = self.member_payload(
                        gid, ou.id, with_user=False, channel_id=channel_id)
            target.setdefault("options", []).append({"name": key, "type": spec["type"],
                                                     "value": value})
        missing = [o["name"] for o in spec_opts if o.get("required") and o["type"] > 2
                   and o["name"] not in (options or {})]
        assert not missing, f"/{name}: required options missing: {missing}"
        if resolved:
            data["resolved"] = resolved
        return await self._send_interaction(
            self._interaction_base(2, u, channel_id, data, locale))

    def _message(self, message: StoredMessage | dict[str, Any] | int) -> StoredMessage:
        mid = message if isinstance(message, int) else (
            message.id if isinstance(message, StoredMessage) else int(message["id"]))
        assert mid in self.messages, f"unknown message {mid}"
        return self.messages[mid]

    async def click(self, user: FakeUser | int, message: StoredMessage | dict[str, Any] | int,
                    custom_id: str, *, values: list[str] | None = None,
                    locale: str | None = None) -> FakeInteraction:
        """A user presses a button (or picks `values` in a select) on a message."""
        u, sm = self._u(user), self._message(message)
        assert not sm.deleted, f"message {sm.id} was deleted"
        comp = next((c for c in sm.items if c.get("custom_id") == custom_id), None)
        assert comp, f"no component {custom_id!r} on message {sm.id}; has {sm.custom_ids}"
        assert not comp.get("disabled"), f"component {custom_id!r} is disabled"
        if sm.ephemeral and sm.interaction_id:
            owner = self.interactions[sm.interaction_id].user
            assert owner.id == u.id, "only the user who saw an ephemeral message can click it"
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if comp["type"] in SELECT_TYPES:
            data["values"] = list(values or [])
        ix = self._interaction_base(3, u, sm.channel_id, data, locale)
        ix.message_id = sm.id
        ix.payload["message"] = sm.data
        return await self._send_interaction(ix)

    async def submit_modal(self, user: FakeUser | int, custom_id: str, values: dict[str, Any],
                           *, locale: str | None = None) -> FakeInteraction:
        """A user submits a modal the bot showed them (matched by the modal's custom_id)."""
        u = self._u(user)
        assert custom_id in self.modals, f"no open modal {custom_id!r}; open: {list(self.modals)}"
        source, modal = self.modals[custom_id]
        assert source.user.id == u.id, f"modal {custom_id!r} was shown to {source.user.name}"
        known = {c["custom_id"] for c in _walk(modal["components"]) if "custom_id" in c}
        assert set(values) <= known, f"unknown modal inputs {set(values) - known}; has {known}"

        def answer(c: dict[str, Any]) -> dict[str, Any]:
            if c["type"] == 1:
                return {"type": 1, "components": [answer(x) for x in c["components"]]}
            if c["type"] == 18:
                return {"type": 18, "id": c.get("id"), "component": answer(c["component"])}
            if c["type"] in SELECT_TYPES:
                return {"type": c["type"], "custom_id": c["custom_id"],
                        "values": list(values.get(c["custom_id"], []))}
            if c["type"] == 4:
                return {"type": 4, "custom_id": c["custom_id"],
                        "value": values.get(c["custom_id"], c.get("value") or "")}
            return {k: v for k, v in c.items() if k in ("type", "id")}

        del self.modals[custom_id]
        data = {"custom_id": custom_id, "components": [answer(c) for c in modal["components"]]}
        ix = self._interaction_base(5, u, source.channel_id, data, locale)
        if source.message_id:
            ix.message_id = source.message_id
            ix.payload["message"] = self.messages[source.message_id].data
        return await self._send_interaction(ix)

    # ------------------------------------------------------------------ REST plumbing
    def fail_next(self, method: str, path_regex: str, status: int = 429, *,
                  retry_after: float = 0.2, times: int = 1, global_: bool = False,
                  code: int = 0, message: str | None = None) -> None:
        """Answer the next `times` matching requests with an error (path is relative to
        /api/v10 and matched with re.fullmatch; method "*" matches any)."""
        self._faults.append({"method": method.upper(), "re": re.compile(path_regex),
                             "status": status, "retry_after": retry_after, "times": times,
                             "global": global_, "code": code, "message": message, "delay": 0.0})

    def delay_next(self, method: str, path_regex: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` matching requests for `seconds` before handling them."""
        self._faults.append({"method": method.upper(), "re": re.compile(path_regex),
                             "status": None, "times": times, "delay": seconds})

    def _take_fault(self, method: str, path: str) -> dict[str, Any] | None:
        for f in self._faults:
            if f["method"] in ("*", method) and f["re"].fullmatch(path):
                f["times"] -= 1
                if f["times"] <= 0:
                    self._faults.remove(f)
                return f
        return None

    @staticmethod
    def _fault_response(f: dict[str, Any]) -> web.Response:
        status = f["status"]
        if status == 429:
            ra = f["retry_after"]
            body = {"message": "You are being rate limited.", "retry_after": ra,
                    "global": f["global"]}
            if f["global"]:
                body["code"] = 0
            headers = {"Retry-After": str(math.ceil(ra)), "X-RateLimit-Limit": "5",
                       "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": f"{ra:.3f}",
                       "X-RateLimit-Reset": f"{time.time() + ra:.3f}",
                       "X-RateLimit-Bucket": "fake-bucket",
                       "X-RateLimit-Scope": "global" if f["global"] else "user"}
            if f["global"]:
                headers["X-RateLimit-Global"] = "true"
            return _json(body, 429, headers)
        if status >= 500:
            return web.Response(status=status, text=f"{status}: Internal Server Error",
                                headers={"Via": "1.1 google"})
        return _json({"message": f["message"] or f"{status}: error", "code": f["code"]}, status)

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        rec = RecordedRequest(request.method, path, dict(request.query), dict(request.headers),
                              at=asyncio.get_running_loop().time(), port=_local_port(request))
        self.requests.append(rec)
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":
                    rec.json = json.loads(data)
                else:
                    rec.files.append({"name": part.name, "filename": part.filename,
                                      "content_type": part.headers.get("Content-Type"),
                                      "data": bytes(data)})
        elif raw := await request.read():
            rec.json = json.loads(raw)
        while (f := self._take_fault(rec.method, path)) is not None:
            if f["status"] is None:
                await asyncio.sleep(f["delay"])
                continue
            rec.status = f["status"]
            return self._fault_response(f)
        try:
            if not path.startswith(("/interactions/", "/webhooks/")) and not self._token_ok(
                    request.headers.get("Authorization")):
                raise ApiError(401, 0, "401: Unauthorized")
            for method, pattern, handler in self._routes():
                m = re.fullmatch(pattern, path)
                if m and method == rec.method:
                    resp = await handler(rec, *m.groups())
                    break
            else:
                raise ApiError(404, 0, "404: Not Found")
        except ApiError as e:
            body: dict[str, Any] = {"message": e.message, "code": e.code}
            if e.errors:
                body["errors"] = e.errors
            self.errors.append({"method": rec.method, "path": path, "status": e.status, **body})
            resp = _json(body, e.status)
        rec.status = resp.status
        rec.response = json.loads(resp.body) if isinstance(resp.body, bytes) else None
        return resp

    async def _attachment(self, request: web.Request) -> web.Response:
        aid = int(request.match_info["aid"])
        for sm in self.messages.values():
            if aid in sm.files:
                return web.Response(body=sm.files[aid])
        return web.Response(status=404, text="Not Found")

    def _routes(self) -> list[tuple[str, str, Callable[..., Any]]]:
        app, wh, s = r"/applications/(\d+)", r"/webhooks/(\d+)/([^/]+)", r"(\d+)"
        return [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/(?:oauth2/)?applications/@me", self._get_app),
            ("GET", r"/gateway(/bot)?", self._get_gateway),
            ("GET", rf"/users/{s}", self._get_user),
            ("GET", rf"/guilds/{s}/members/{s}", self._get_member),
            ("PUT", app + r"/commands", self._put_commands),
            ("PUT", app + rf"/guilds/{s}/commands", self._put_commands),
            ("GET", app + r"/commands", self._get_commands),
            ("GET", app + rf"/guilds/{s}/commands", self._get_commands),
            ("POST", rf"/interactions/{s}/([^/]+)/callback", self._callback),
            ("POST", wh, self._webhook_post),
            ("GET", wh + r"/messages/(@original|\d+)", self._webhook_get),
            ("PATCH", wh + r"/messages/(@original|\d+)", self._webhook_patch),
            ("DELETE", wh + r"/messages/(@original|\d+)", self._webhook_delete),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("GET", rf"/channels/{s}", self._get_channel),
            ("POST", rf"/channels/{s}/messages", self._post_message),
            ("GET", rf"/channels/{s}/messages", self._history),
            ("GET", rf"/channels/{s}/messages/{s}", self._get_message),
            ("PATCH", rf"/channels/{s}/messages/{s}", self._patch_message),
            ("DELETE", rf"/channels/{s}/messages/{s}", self._delete_message),
            ("POST", rf"/channels/{s}/typing", self._typing),
            ("POST", rf"/channels/{s}/threads", self._post_thread),
            ("POST", rf"/channels/{s}/messages/{s}/threads", self._post_thread),
            ("PUT", rf"/channels/{s}/thread-members/(@me|\d+)", self._put_thread_member),
            ("DELETE", rf"/channels/{s}/thread-members/(@me|\d+)", self._del_thread_member),
        ]

    # ------------------------------------------------------------------ REST: misc
    async def _get_me(self, rec: RecordedRequest) -> web.Response:
        return _json({**self.bot.payload(), "verified": True, "mfa_enabled": False,
                      "locale": "en-US", "email": None})

    async def _get_app(self, rec: RecordedRequest) -> web.Response:
        return _json({"id": str(self.application_id), "name": self.bot.name, "icon": None,
                      "description": "", "bot_public": True, "bot_require_code_grant": False,
                      "owner": self.owner.payload(), "team": None, "verify_key": "0" * 64,
                      "flags": 0, "bot": self.bot.payload(), "summary": "",
                      "interactions_endpoint_url": None, "redirect_uris": [], "tags": []})

    async def _get_gateway(self, rec: RecordedRequest, bot: str | None) -> web.Response:
        out: dict[str, Any] = {"url": self.gateway_url}
        if bot:
            # Discord's recommendation, and identifies left today (one at a time).
            out.update(shards=self.recommended_shards, session_start_limit={
                "total": 1000, "remaining": max(0, 1000 - len(self.identifies)),
                "reset_after": 86_400_000, "max_concurrency": 1})
        return _json(out)

    async def _get_user(self, rec: RecordedRequest, uid: str) -> web.Response:
        if int(uid) not in self.users:
            raise ApiError(404, 10013, "Unknown User")
        return _json(self.users[int(uid)].payload())

    async def _get_member(self, rec: RecordedRequest, gid: str, uid: str) -> web.Response:
        if int(gid) not in self.guilds:
            raise ApiError(404, 10004, "Unknown Guild")
        if int(uid) not in self.guilds[int(gid)]["members"]:
            raise ApiError(404, 10007, "Unknown Member")
        return _json(self.member_payload(int(gid), int(uid)))

    def _channel(self, cid: str | int) -> dict[str, Any]:
        if int(cid) not in self.channels:
            raise ApiError(404, 10003, "Unknown Channel")
        return self.channels[int(cid)]

    async def _get_channel(self, rec: RecordedRequest, cid: str) -> web.Response:
        self._channel(cid)
        return _json(self.channel_payload(int(cid)))

    async def _create_dm(self, rec: RecordedRequest) -> web.Response:
        uid = int((rec.json or {}).get("recipient_id", 0))
        if uid not in self.users:
            raise ApiError(400, 50035, "Invalid Form Body", {"recipient_id": {"_errors": [
                {"code": "USER_NOT_FOUND", "message": "Unknown user"}]}})
        return _json(self.channel_payload(self.dm_channel(uid)))

    async def _typing(self, rec: RecordedRequest, cid: str) -> web.Response:
        self._channel(cid)
        return _no_content()

    # ------------------------------------------------------------------ REST: commands
    def _validate_commands(self, cmds: Any) -> None:
        fe = _FormErrors()
        if not isinstance(cmds, list):
            raise ApiError(400, 50035, "Invalid Form Body")

        def texts(path: str, obj: dict[str, Any], check_desc: bool) -> None:
            if not _name_ok(obj.get("name")):
                fe.add(path + ".name", "APPLICATION_COMMAND_INVALID_NAME",
                       "Command name is invalid")
            if check_desc:
                fe.length(path + ".description", obj.get("description"), 1, 100)
            for key in ("name_localizations", "description_localizations"):
                for loc, text in (obj.get(key) or {}).items():
                    if loc not in LOCALES:
                        fe.add(f"{path}.{key}.{loc}", "LOCALE_INVALID", "Invalid locale")
                    elif key == "name_localizations" and not _name_ok(text):
                        fe.add(f"{path}.{key}.{loc}", "APPLICATION_COMMAND_INVALID_NAME",
                               "Command name is invalid")
                    elif key == "description_localizations":
                        fe.length(f"{path}.{key}.{loc}", text, 1, 100)

        def options(path: str, opts: list[dict[str, Any]]) -> None:
            if len(opts) > 25:
                fe.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            seen_optional = False
            for i, o in enumerate(opts):
                texts(f"{path}.{i}", o, True)
                if o.get("required") and seen_optional:
                    fe.add(f"{path}.{i}.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                           "Required options must be placed before non-required options")
                seen_optional |= not o.get("required") and o.get("type", 3) > 2
                choices = o.get("choices") or []
                if len(choices) > 25:
                    fe.add(f"{path}.{i}.choices", "BASE_TYPE_MAX_LENGTH",
                           "Must be 25 or fewer in length.")
                for j, c in enumerate(choices):
                    fe.length(f"{path}.{i}.choices.{j}.name", c.get("name"), 1, 100)
                options(f"{path}.{i}.options", o.get("options") or [])

        names = set()
        for i, c in enumerate(cmds):
            ctype = c.get("type", 1)
            texts(str(i), c, ctype == 1)
            if ctype != 1 and c.get("description"):
                fe.add(f"{i}.description", "APPLICATION_COMMAND_INVALID_DESCRIPTION",
                       "Description must be empty for context menu commands")
            if (ctype, c.get("name")) in names:
                fe.add(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME",
                       "Application command names must be unique")
            names.add((ctype, c.get("name")))
            options(f"{i}.options", c.get("options") or [])
        fe.raise_if_any()

    def _store_commands(self, cmds: Any, guild_id: int | None) -> list[dict[str, Any]]:
        self._validate_commands(cmds)
        old = self.commands.get(guild_id, {})
        stored = {}
        for c in cmds:
            prev = old.get(c["name"])
            out = {"type": 1, "description": "", "options": [], "nsfw": False,
                   "default_member_permissions": None, "name_localizations": None,
                   "description_localizations": None, "contexts": None,
                   "integration_types": [0], **c,
                   "id": prev["id"] if prev else str(self.snowflake()),
                   "application_id": str(self.application_id), "version": str(self.snowflake())}
            if guild_id:
                out["guild_id"] = str(guild_id)
            stored[c["name"]] = out
        self.commands[guild_id] = stored
        return list(stored.values())

    async def _put_commands(self, rec: RecordedRequest, app: str, gid: str | None = None
                            ) -> web.Response:
        if int(app) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")
        if gid and int(gid) not in self.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return _json(self._store_commands(rec.json, int(gid) if gid else None))

    async def _get_commands(self, rec: RecordedRequest, app: str, gid: str | None = None
                            ) -> web.Response:
        return _json(list(self.commands.get(int(gid) if gid else None, {}).values()))

    # ------------------------------------------------------------------ REST: messages
    def _validate_message(self, body: dict[str, Any], files: list[dict[str, Any]], *,
                          creating: bool) -> None:
        fe = _FormErrors()
        content = body.get("content")
        if isinstance(content, str) and len(content) > 2000:
            fe.add("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            fe.add("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, e in enumerate(embeds):
            for key, limit, text in (
                    ("title", 256, e.get("title")), ("description", 4096, e.get("description")),
                    ("footer.text", 2048, (e.get("footer") or {}).get("text")),
                    ("author.name", 256, (e.get("author") or {}).get("name"))):
                total += len(text or "")
                if text and len(text) > limit:
                    fe.add(f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH",
                           f"Must be {limit} or fewer in length.")
            if len(e.get("fields") or []) > 25:
                fe.add(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH",
                       "Must be 25 or fewer in length.")
            for j, f in enumerate(e.get("fields") or []):
                total += len(f.get("name", "")) + len(f.get("value", ""))
                fe.length(f"embeds.{i}.fields.{j}.name", f.get("name"), 1, 256)
                fe.length(f"embeds.{i}.fields.{j}.value", f.get("value"), 1, 1024)
        if total > 6000:
            fe.add("embeds", "MESSAGE_EMBED_SIZE_EXCEEDED",
                   "Embed size exceeds maximum size of 6000")
        components = body.get("components") or []
        if not (body.get("flags", 0) & F_COMPONENTS_V2):
            if len(components) > 5:
                fe.add("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, row in enumerate(components):
                kids = row.get("components") or []
                if row.get("type") != 1:
                    fe.add(f"components.{i}.type", "UNION_TYPE_CHOICES",
                           "Value of field \"type\" must be one of (1,).")
                elif not 1 <= len(kids) <= 5:
                    fe.add(f"components.{i}.components", "BASE_TYPE_BAD_LENGTH",
                           "Must be between 1 and 5 in length.")
                elif len(kids) > 1 and any(k.get("type") in SELECT_TYPES for k in kids):
                    fe.add(f"components.{i}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                           "The specified component exceeds the maximum width")
        seen: set[str] = set()
        for c in _walk(components):
            if c.get("type") == 2 and c.get("style") == 5:
                if not c.get("url") or "custom_id" in c:
                    fe.add("components", "BUTTON_COMPONENT_URL_REQUIRED",
                           "Link buttons need a url and no custom_id")
                continue
            if c.get("type") in (2, *SELECT_TYPES, 4) and c.get("style") != 6:
                cid = c.get("custom_id")
                fe.length("components.custom_id", cid, 1, 100)
                if cid in seen:
                    fe.add("components", "COMPONENT_CUSTOM_ID_DUPLICATED",
                           "Component custom id cannot be duplicated")
                seen.add(cid)
            if c.get("type") == 2 and len(c.get("label") or "") > 80:
                fe.add("components.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
            if c.get("type") in SELECT_TYPES and len(c.get("options") or []) > 25:
                fe.add("components.options", "BASE_TYPE_MAX_LENGTH",
                       "Must be 25 or fewer in length.")
        am = body.get("allowed_mentions")
        if am:
            for kind in ("users", "roles"):
                if kind in (am.get("parse") or []) and am.get(kind):
                    fe.add(f"allowed_mentions.{kind}", "ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                           f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.")
        fe.raise_if_any()
        if creating and not (content or embeds or components or files or body.get("poll")
                             or body.get("sticker_ids")):
            raise ApiError(400, 50006, "Cannot send an empty message")

    def _message_payload(self, channel_id: int, author: FakeUser, content: str,
                         embeds: list[dict[str, Any]], components: list[dict[str, Any]],
                         flags: int) -> dict[str, Any]:
        gid = self._guild_of(channel_id)
        embeds, components = copy.deepcopy(embeds), copy.deepcopy(components)
        ids = itertools.count(1)
        for c in _walk(components):
            c.setdefault("id", next(ids))
        return {"id": str(self.snowflake()), "channel_id": str(channel_id), "type": 0,
                "content": content, "author": author.payload(), "attachments": [],
                "embeds": embeds, "components": components,
                "mentions": self._mentions(content, gid),
                "mention_roles": re.findall(r"<@&(\d+)>", content),
                "mention_everyone": "@everyone" in content or "@here" in content,
                "pinned": False, "tts": False, "timestamp": _now_iso(),
                "edited_timestamp": None, "flags": flags}

    def _attach_reference(self, data: dict[str, Any], cid: int, ref: dict[str, Any]) -> None:
        mid = int(ref.get("message_id", 0))
        target = self.messages.get(mid)
        if target is None or target.channel_id != cid:
            if ref.get("fail_if_not_exists", True):
                raise ApiError(400, 50035, "Invalid Form Body", {"message_reference": {
                    "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                 "message": "Unknown message"}]}})
            return
        data.update(type=19, referenced_message=target.data,
                    message_reference={"type": 0, "message_id": str(mid),
                                       "channel_id": str(cid), "guild_id": data.get("guild_id")})

    def _store(self, sm: StoredMessage) -> None:
        self.messages[sm.id] = sm
        self._by_channel[sm.channel_id].append(sm)
        ch = self.channels[sm.channel_id]
        if not sm.ephemeral:
            ch["last_message_id"] = str(sm.id)
            if ch["type"] in THREAD_TYPES:
                ch["message_count"] = ch.get("message_count", 0) + 1
                ch["total_message_sent"] = ch.get("total_message_sent", 0) + 1

    def _gateway_message(self, sm: StoredMessage) -> dict[str, Any]:
        d = dict(sm.data)
        gid = self._guild_of(sm.channel_id)
        if gid:
            d["guild_id"] = str(gid)
            uid = int(d["author"]["id"])
            if uid in self.guilds[gid]["members"] and not d.get("webhook_id"):
                d["member"] = self.member_payload(gid, uid, with_user=False)
        return d

    async def _bot_message(self, cid: int, rec: RecordedRequest, *, flags: int = 0,
                           ix: FakeInteraction | None = None) -> StoredMessage:
        body = rec.json or {}
        self._validate_message(body, rec.files, creating=True)
        data = self._message_payload(cid, self.bot, body.get("content") or "",
                                     body.get("embeds") or [], body.get("components") or [],
                                     flags | (body.get("flags", 0) & ~F_EPHEMERAL))
        sm = StoredMessage(data, allowed_mentions=body.get("allowed_mentions"), by_bot=True)
        self._set_attachments(sm, body, rec.files)
        if body.get("message_reference"):
            self._attach_reference(data, cid, body["message_reference"])
        if ix is not None:
            sm.interaction_id = ix.id
            data.update(webhook_id=str(self.application_id),
                        application_id=str(self.application_id),
                        type=20 if ix.type == 2 else data["type"],
                        interaction_metadata={"id": str(ix.id), "type": ix.type,
                                              "user": ix.user.payload(),
                                              "authorizing_integration_owners":
                                                  ix.payload["authorizing_integration_owners"]})
        self._store(sm)
        if not sm.ephemeral:
            await self._dispatch("MESSAGE_CREATE", self._gateway_message(sm))
        return sm

    def _set_attachments(self, sm: StoredMessage, body: dict[str, Any],
                         files: list[dict[str, Any]]) -> None:
        if "attachments" not in body and not files:
            return
        kept = [a for a in sm.data.get("attachments", [])
                if any(str(b.get("id")) == a["id"] for b in body.get("attachments") or [])]
        for i, f in enumerate(files):
            desc = next((b for b in body.get("attachments") or [] if str(b.get("id")) == str(i)),
                        {})
            kept.append(self._attachment_payload(sm.channel_id, {
                "filename": desc.get("filename") or f["filename"], "data": f["data"],
                "content_type": f["content_type"], "description": desc.get("description")},
                sm.files))
        sm.data["attachments"] = kept

    async def _edit(self, sm: StoredMessage, rec: RecordedRequest) -> StoredMessage:
        body = rec.json or {}
        self._validate_message(body, rec.files, creating=False)
        for key in ("content", "embeds", "components"):
            if key in body:
                sm.data[key] = copy.deepcopy(body[key]) if body[key] is not None else (
                    "" if key == "content" else [])
        if "flags" in body and body["flags"] is not None:
            sm.data["flags"] = (sm.flags & (F_EPHEMERAL | F_COMPONENTS_V2)) | (
                body["flags"] & ~F_EPHEMERAL)
        sm.data["flags"] = sm.flags & ~F_LOADING
        if "allowed_mentions" in body:
            sm.allowed_mentions = body["allowed_mentions"]
        self._set_attachments(sm, body, rec.files)
        sm.data["mentions"] = self._mentions(sm.content, self._guild_of(sm.channel_id))
        sm.data["edited_timestamp"] = _now_iso()
        ids = itertools.count(1)
        for c in _walk(sm.data["components"]):
            c.setdefault("id", next(ids))
        if not (sm.content or sm.embeds or sm.components or sm.data["attachments"]):
            raise ApiError(400, 50006, "Cannot send an empty message")
        if not sm.ephemeral:
            await self._dispatch("MESSAGE_UPDATE", self._gateway_message(sm))
        return sm

    def _check_send(self, cid: int, perm: int = P_SEND) -> dict[str, Any]:
        ch = self._channel(cid)
        if ch["type"] == DM:
            return ch
        perms = self.permissions_for(self.bot.id, cid)
        if not perms & P_VIEW:
            raise ApiError(403, 50001, "Missing Access")
        if ch["type"] in THREAD_TYPES:
            if perm == P_SEND:
                perm = P_SEND_IN_THREADS
            if ch["type"] == PRIVATE_THREAD and not perms & P_MANAGE_THREADS and \
                    self.bot.id not in self.thread_members.get(cid, set()):
                raise ApiError(403, 50001, "Missing Access")
            if ch["thread_metadata"]["locked"]:
                raise ApiError(403, 50083, "Thread is archived")
        if not perms & perm:
            raise ApiError(403, 50013, "Missing Permissions")
        return ch

    async def _post_message(self, rec: RecordedRequest, cid: str) -> web.Response:
        self._check_send(int(cid))
        body = rec.json or {}
        nonce = body.get("nonce")
        if nonce is not None and (not isinstance(nonce, (str, int)) or len(str(nonce)) > 25):
            raise ApiError(400, 50035, "Invalid Form Body", {"nonce": {"_errors": [
                {"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be 25 or fewer in length."}]}})
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author's message with this nonce in the last few minutes
            # is returned as it is, and no new message is created.
            seen = self._nonces.get(str(nonce))
            if seen is not None and now - seen[1] < NONCE_WINDOW and not seen[0].deleted:
                return _json(seen[0].data)
        sm = await self._bot_message(int(cid), rec)
        if nonce is not None:
            sm.data["nonce"] = nonce
            self._nonces[str(nonce)] = (sm, now)
        return _json(sm.data)

    def _in_channel(self, cid: str, mid: str) -> StoredMessage:
        self._channel(cid)
        sm = self.messages.get(int(mid))
        if sm is None or sm.deleted or sm.channel_id != int(cid) or sm.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return sm

    async def _get_message(self, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        return _json(self._visible(self._gateway_message(self._in_channel(cid, mid))))

    async def _patch_message(self, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        sm = self._in_channel(cid, mid)
        if not sm.by_bot or sm.interaction_id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        return _json((await self._edit(sm, rec)).data)

    async def _delete_message(self, rec: RecordedRequest, cid: str, mid: str) -> web.Response:
        sm = self._in_channel(cid, mid)
        if not sm.by_bot:
            if self.channels[int(cid)]["type"] == DM:
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            if not self.permissions_for(self.bot.id, int(cid)) & P_MANAGE_MESSAGES:
                raise ApiError(403, 50013, "Missing Permissions")
        await self._delete(sm)
        return _no_content()

    async def _delete(self, sm: StoredMessage) -> None:
        sm.deleted = True
        if not sm.ephemeral:
            d = {"id": str(sm.id), "channel_id": str(sm.channel_id)}
            if gid := self._guild_of(sm.channel_id):
                d["guild_id"] = str(gid)
            await self._dispatch("MESSAGE_DELETE", d)

    async def _history(self, rec: RecordedRequest, cid: str) -> web.Response:
        ch = self._channel(cid)
        if ch["type"] != DM:
            perms = self.permissions_for(self.bot.id, int(cid))
            if not perms & P_VIEW:
                raise ApiError(403, 50001, "Missing Access")
            if not perms & P_HISTORY:
                return _json([])
        limit = int(rec.query.get("limit", 50))
        if not 1 <= limit <= 100:
            raise ApiError(400, 50035, "Invalid Form Body", {"limit": {"_errors": [
                {"code": "NUMBER_TYPE_MAX", "message": "int value should be <= 100."}]}})
        msgs = sorted((m for m in self.messages.values() if m.channel_id == int(cid)
                       and not m.deleted and not m.ephemeral), key=lambda m: m.id)
        q = {k: int(v) for k, v in rec.query.items() if k in ("before", "after", "around")}
        if "before" in q:
            msgs = [m for m in msgs if m.id < q["before"]][-limit:]
        elif "after" in q:
            msgs = [m for m in msgs if m.id > q["after"]][:limit]
        elif "around" in q:
            older = [m for m in msgs if m.id < q["around"]][-(limit // 2):] if limit > 1 else []
            msgs = older + [m for m in msgs if m.id >= q["around"]][: limit - len(older)]
        else:
            msgs = msgs[-limit:]
        return _json([self._visible(self._gateway_message(m)) for m in reversed(msgs)])

    # ------------------------------------------------------------------ REST: threads
    def _new_thread(self, parent_id: int, name: str, owner_id: int, ttype: int,
                    archive: int, invitable: bool, thread_id: int | None = None
                    ) -> dict[str, Any]:
        parent = self.channels[parent_id]
        tid = thread_id or self.snowflake()
        now = _now_iso()
        meta = {"archived": False, "auto_archive_duration": archive, "archive_timestamp": now,
                "locked": False, "create_timestamp": now}
        if ttype == PRIVATE_THREAD:
            meta["invitable"] = invitable
        th = {"id": str(tid), "type": ttype, "guild_id": parent["guild_id"],
              "parent_id": str(parent_id), "owner_id": str(owner_id), "name": name,
              "last_message_id": None, "rate_limit_per_user": 0, "message_count": 0,
              "member_count": 1, "total_message_sent": 0, "flags": 0, "thread_metadata": meta}
        self.channels[tid] = th
        self.thread_members[tid] = {owner_id}
        return th

    async def _post_thread(self, rec: RecordedRequest, cid: str, mid: str | None = None
                           ) -> web.Response:
        body, parent = rec.json or {}, self._channel(cid)
        ttype = PUBLIC_THREAD if mid else body.get("type", PRIVATE_THREAD)
        if parent["type"] not in (TEXT, NEWS) or (ttype == PRIVATE_THREAD
                                                  and parent["type"] == NEWS):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self._check_send(int(cid), P_PRIVATE_THREADS if ttype == PRIVATE_THREAD
                         else P_PUBLIC_THREADS)
        fe = _FormErrors()
        fe.length("name", body.get("name"), 1, 100)
        if body.get("auto_archive_duration", 1440) not in (60, 1440, 4320, 10080):
            fe.add("auto_archive_duration", "BASE_TYPE_CHOICES",
                   "Value must be one of {60, 1440, 4320, 10080}.")
        fe.raise_if_any()
        if mid:
            self._in_channel(cid, mid)
            if int(mid) in self.channels:
                raise ApiError(400, 160004, "A thread has already been created for this message")
        th = self._new_thread(int(cid), body["name"], self.bot.id, ttype,
                              body.get("auto_archive_duration", 1440),
                              body.get("invitable", True), int(mid) if mid else None)
        th["rate_limit_per_user"] = body.get("rate_limit_per_user", 0)
        now = _now_iso()
        await self._dispatch("THREAD_CREATE", {**th, "newly_created": True, "member": {
            "id": th["id"], "user_id": str(self.bot.id), "join_timestamp": now, "flags": 0}})
        return _json({**th, "member": {"id": th["id"], "user_id": str(self.bot.id),
                                       "join_timestamp": now, "flags": 0}})

    def _thread(self, cid: str) -> dict[str, Any]:
        th = self._channel(cid)
        if th["type"] not in THREAD_TYPES:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return th

    async def _put_thread_member(self, rec: RecordedRequest, cid: str, who: str) -> web.Response:
        th = self._thread(cid)
        uid = self.bot.id if who == "@me" else int(who)
        gid = int(th["guild_id"])
        if uid not in self.guilds[gid]["members"]:
            raise ApiError(404, 10007, "Unknown Member")
        if uid != self.bot.id:
            self._check_send(int(cid))
        members = self.thread_members[int(cid)]
        if uid not in members:
            members.add(uid)
            th["member_count"] = len(members)
            session = self.session_for(gid)
            if uid == self.bot.id or (session and session.intents & I_MEMBERS):
                await self._dispatch("THREAD_MEMBERS_UPDATE", {
                    "id": cid, "guild_id": str(gid), "member_count": len(members),
                    "added_members": [{"id": cid, "user_id": str(uid), "flags": 0,
                                       "join_timestamp": _now_iso(),
                                       "member": self.member_payload(gid, uid)}]})
        return _no_content()

    async def _del_thread_member(self, rec: RecordedRequest, cid: str, who: str) -> web.Response:
        th = self._thread(cid)
        uid = self.bot.id if who == "@me" else int(who)
        self.thread_members[int(cid)].discard(uid)
        th["member_count"] = len(self.thread_members[int(cid)])
        return _no_content()

    # ------------------------------------------------------------------ REST: interactions
    async def _callback(self, rec: RecordedRequest, iid: str, token: str) -> web.Response:
        ix = self.interactions.get(int(iid))
        now = asyncio.get_running_loop().time()
        if ix is None or ix.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        if ix.acked_at is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if now - ix.dispatched_at > self.ack_window:
            ix.late = True
            raise ApiError(404, 10062, "Unknown interaction")
        body = rec.json or {}
        rtype, data = body.get("type"), body.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[ix.type]
        if rtype not in allowed:
            raise ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": [
                {"code": "INTERACTION_RESPONSE_TYPE_INVALID",
                 "message": f"Response type {rtype} is invalid for interaction type {ix.type}"}]}})
        sm: StoredMessage | None = None
        if rtype == 4:
            sub = RecordedRequest(rec.method, rec.path, {}, {}, data, rec.files)
            sm = await self._bot_message(ix.channel_id, sub, flags=data.get("flags", 0)
                                         & F_EPHEMERAL, ix=ix)
        elif rtype == 5:
            sm = StoredMessage(self._message_payload(
                ix.channel_id, self.bot, "", [], [], F_LOADING | (data.get("flags", 0)
                                                                   & F_EPHEMERAL)), by_bot=True)
            sm.interaction_id = ix.id
            sm.data.update(webhook_id=str(self.application_id),
                           application_id=str(self.application_id),
                           interaction_metadata={"id": str(ix.id), "type": ix.type,
                                                 "user": ix.user.payload()})
            self._store(sm)
            if not sm.ephemeral:
                await self._dispatch("MESSAGE_CREATE", self._gateway_message(sm))
        elif rtype in (6, 7):
            if ix.message_id is None:
                raise ApiError(400, 40004, "Interaction has no message to update")
            sm = self.messages[ix.message_id]
            if rtype == 7:
                await self._edit(sm, RecordedRequest(rec.method, rec.path, {}, {}, data,
                                                     rec.files))
        elif rtype == 9:
            fe = _FormErrors()
            fe.length("data.custom_id", data.get("custom_id"), 1, 100)
            fe.length("data.title", data.get("title"), 1, 45)
            if not 1 <= len(data.get("components") or []) <= 5:
                fe.add("data.components", "BASE_TYPE_BAD_LENGTH",
                       "Must be between 1 and 5 in length.")
            fe.raise_if_any()
            self.modals[data["custom_id"]] = (ix, data)
        ix.acked_at, ix.response_type = now, rtype
        ix.original_id = sm.id if sm else None
        ix.responses.append({"kind": "callback", "type": rtype, "data": data,
                             "latency": now - ix.dispatched_at,
                             "message_id": sm.id if sm else None})
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return _no_content()
        inter = {"id": str(ix.id), "type": ix.type,
                 "response_message_loading": rtype == 5,
                 "response_message_ephemeral": bool(sm and sm.ephemeral)}
        resource: dict[str, Any] = {"type": rtype}
        if sm is not None:
            inter["response_message_id"] = str(sm.id)
            resource["message"] = sm.data
        return _json({"interaction": inter, "resource": resource})

    def _webhook_ix(self, app: str, token: str) -> FakeInteraction:
        ix = next((i for i in self.interactions.values() if i.token == token), None)
        loop_now = asyncio.get_running_loop().time()
        if (ix is None or int(app) != self.application_id or ix.acked_at is None
                or loop_now - ix.dispatched_at > 15 * 60):
            raise ApiError(404, 10015, "Unknown Webhook")
        return ix

    def _webhook_msg(self, ix: FakeInteraction, which: str) -> StoredMessage:
        mid = ix.original_id if which == "@original" else int(which)
        if mid is None or (mid != ix.original_id and mid not in ix.followup_ids):
            raise ApiError(404, 10008, "Unknown Message")
        sm = self.messages[mid]
        if sm.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return sm

    async def _webhook_post(self, rec: RecordedRequest, app: str, token: str) -> web.Response:
        ix = self._webhook_ix(app, token)
        original = self.messages.get(ix.original_id or 0)
        if ix.response_type == 5 and original and original.flags & F_LOADING:
            # The first follow-up after a deferred reply replaces the "thinking" message and
            # keeps its ephemerality.
            sm = await self._edit(original, rec)
            sm.allowed_mentions = (rec.json or {}).get("allowed_mentions")
            kind = "followup-replaced-deferred"
        else:
            flags = (rec.json or {}).get("flags", 0) & F_EPHEMERAL
            sm = await self._bot_message(ix.channel_id, rec, flags=flags, ix=ix)
            ix.followup_ids.append(sm.id)
            kind = "followup"
        ix.responses.append({"kind": kind, "data": rec.json, "message_id": sm.id})
        if rec.query.get("wait") not in ("1", "true", "True"):
            return _no_content()
        return _json(sm.data)

    async def _webhook_get(self, rec: RecordedRequest, app: str, token: str, which: str
                           ) -> web.Response:
        return _json(self._webhook_msg(self._webhook_ix(app, token), which).data)

    async def _webhook_patch(self, rec: RecordedRequest, app: str, token: str, which: str
                             ) -> web.Response:
        ix = self._webhook_ix(app, token)
        sm = await self._edit(self._webhook_msg(ix, which), rec)
        ix.responses.append({"kind": "edit", "target": which, "data": rec.json,
                             "message_id": sm.id})
        return _json(sm.data)

    async def _webhook_delete(self, rec: RecordedRequest, app: str, token: str, which: str
                              ) -> web.Response:
        ix = self._webhook_ix(app, token)
        sm = self._webhook_msg(ix, which)
        await self._delete(sm)
        ix.responses.append({"kind": "delete", "target": which, "message_id": sm.id})
        return _no_content()

    # ------------------------------------------------------------------ test helpers
    @property
    def client_ready(self) -> bool:
        return self.client_connected.is_set()

    def sent_messages(self, channel_id: int | None = None) -> list[StoredMessage]:
        """Messages the bot has (still) posted, current content; ephemeral ones included."""
        source = self.messages.values() if channel_id is None else self._by_channel[channel_id]
        return [m for m in source if m.by_bot and not m.deleted]

    def interaction_responses(self, interaction_id: int) -> list[dict[str, Any]]:
        return self.interactions[interaction_id].responses

    def public_messages(self, channel_id: int) -> list[StoredMessage]:
        """What everyone in the channel sees from the bot: no ephemeral replies."""
        return [m for m in self.sent_messages(channel_id) if not m.ephemeral]

    def replies_to(self, ix: FakeInteraction) -> list[StoredMessage]:
        """The messages an interaction's response and follow-ups left (current content;
        a deferred "thinking" one that was deleted is left out)."""
        ids = ([ix.original_id] if ix.original_id else []) + ix.followup_ids
        return [self.messages[i] for i in ids if not self.messages[i].deleted]

    def expire(self, ix: FakeInteraction) -> None:
        """Age an interaction past its token's 15 minutes: its webhook is gone."""
        ix.dispatched_at -= 15 * 60 + 1

    def requests_to(self, method: str, path_regex: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method.upper()
                and re.fullmatch(path_regex, r.path)]

    def could_ping(self, message: StoredMessage | dict[str, Any] | int) -> bool:
        """Would Discord notify anyone for this message's text, given its allowed_mentions?
        (Absent allowed_mentions pings; embeds never ping.)"""
        sm = self._message(message)
        am = sm.allowed_mentions
        if am is None:
            return bool(MENTION_RE.search(sm.content) or sm.data.get("message_reference"))
        parse = set(am.get("parse") or [])
        for m in MENTION_RE.finditer(sm.content):
            if m.group(0) in ("@everyone", "@here"):
                hit = "everyone" in parse
            elif m.group(1) == "&":
                hit = "roles" in parse or m.group(2) in map(str, am.get("roles") or [])
            else:
                hit = "users" in parse or m.group(2) in map(str, am.get("users") or [])
            if hit:
                return True
        return bool(sm.data.get("message_reference") and am.get("replied_user"))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0,
                       what: str = "") -> Any:
        """Poll `predicate` until it returns something truthy; fail with recent traffic."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                recent = "\n  ".join(str(r) for r in self.requests[-15:]) or "(none)"
                events = [f["t"] for f in self.dispatched[-10:]]
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or predicate!r}\n"
                    f"recent requests:\n  {recent}\nrecent dispatches: {events}\n"
                    f"errors: {self.errors[-5:]}")
            await asyncio.sleep(0.02)

    async def wait_acked(self, ix: FakeInteraction, timeout: float = 5.0) -> FakeInteraction:
        await self.wait_for(lambda: ix.acked or ix.late, timeout, f"ack of interaction {ix.id}")
        return ix

