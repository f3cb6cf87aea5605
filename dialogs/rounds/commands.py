"""Parsing what mentors and members type or press for a round (pure, no state).

    /round start [window] [situation] [followups on|off] [skeptical]
                        e.g. "2h laid_off", "3天 不追问", "situation=quit window=45m tough"
    /round end · /round status · /round comment <n> <text>

Button ids travel as Telegram callback_data (<= 64 bytes) and Discord custom_id:
    round.<round_id>.join · round.<round_id>.share · round.<round_id>.rate.<n>.<point>
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from leavewell.dialogs.modes import COACH, parse_mode
from leavewell.dialogs.script import default_script
from leavewell.dialogs.words import default_words

MIN_WINDOW = 10 * 60
MAX_WINDOW = 7 * 24 * 3600
DEFAULT_WINDOW = 24 * 3600
EACH = None  # the situation value meaning "each member picks their own"


@dataclass(frozen=True, slots=True)
class StartOptions:
    situation: str | None = EACH  # a situation id, or None: each member picks their own
    window: int = DEFAULT_WINDOW  # seconds from the start until answers close
    followups: bool = True
    mode: str | None = None  # the interviewer for everyone (dialogs.modes); None: their own


@dataclass(frozen=True, slots=True)
class RoundCommandError:
    """A reply to send instead: a message key of rounds_<lang>.yaml and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


# -- words (scripts/words.yaml: round_*) ------------------------------------------------

SECONDS_OF_UNIT: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400,
                                   "week": 7 * 86400}
_NUMBER = re.compile(r"[0-9]{1,6}(?:[.][0-9]{1,3})?")
_DIGITS = frozenset("0123456789")
_COMMENT = re.compile(r"\s*[#№]?([0-9]{1,6})(?:[\s:：,，.。、)]+|$)(.*)", re.DOTALL)
_FIRST_WORD = re.compile(r"(\S*)\s*(.*)", re.DOTALL)
_SEPARATORS = re.compile(r"[\s,，、;；\u3000]+")
_EQUALS = re.compile(r"\s*[=:：＝]\s*")


@dataclass(frozen=True, slots=True)
class _Words:
    """What mentors type to /round, all languages together."""

    subcommands: dict[str, str]  # word -> start, end, status, comment
    options: dict[str, str]  # the key of key=value -> situation, window, followups, mode
    each: frozenset[str]  # "each member picks their own situation"
    situations: dict[str, str]  # everyday word -> situation id
    followups: dict[str, bool]  # a word alone: with or without follow-ups
    switch: dict[str, bool]  # the value of followups=
    unit_seconds: dict[str, int]
    part: re.Pattern[str]  # one number and its unit
    duration: re.Pattern[str]  # a whole duration: "1h30m"


@cache
def _words() -> _Words:
    words = default_words()
    unit_seconds = {w: SECONDS_OF_UNIT[u] for w, u in words.meaning("round_units").items()}
    units = "|".join(sorted(map(re.escape, unit_seconds), key=len, reverse=True))
    return _Words(
        subcommands=dict(words.meaning("round_subcommands")),
        options=dict(words.meaning("round_options")),
        each=words.words("round_each"),
        situations=dict(words.meaning("round_situations")),
        followups={w: m == "on" for w, m in words.meaning("round_followups").items()},
        switch={w: m == "on" for w, m in words.meaning("round_switch").items()},
        unit_seconds=unit_seconds,
        part=re.compile(rf"([0-9]{{1,6}}(?:[.][0-9]{{1,3}})?)\s*({units})", re.IGNORECASE),
        duration=re.compile(rf"(?:[0-9]{{1,6}}(?:[.][0-9]{{1,3}})?\s*(?:{units}))+",
                            re.IGNORECASE),
    )


def situation_ids() -> tuple[str, ...]:
    return default_script().situation_order


def parse_round_command(args: str) -> tuple[str, str]:
    """("start" | "end" | "status" | "comment" | "unknown", the rest of the text)."""
    text = (args or "").strip()
    head, rest = _FIRST_WORD.match(text).groups()  # type: ignore[union-attr]
    sub = _words().subcommands.get(head.lower()) if head else "status"
    if sub is None:
        return "unknown", text
    return sub, rest.strip()


def parse_comment(rest: str) -> tuple[int, str]:
    """"/round comment <n> <text>" after the subcommand: (answer number, text); the
    number is 0 when missing or unreadable (the round then explains the usage)."""
    match = _COMMENT.match(rest or "")
    if match is None:
        return 0, (rest or "").strip()
    return int(match.group(1)), match.group(2).strip()


def parse_window(token: str) -> int | None:
    """Seconds in "45m", "2h", "1h30m", "3天", "2 hours"; None when it is no duration."""
    compact = token.strip().lower()
    words = _words()
    if not words.duration.fullmatch(compact):
        return None
    total = 0.0
    for number, unit in words.part.findall(compact):
        total += float(number) * words.unit_seconds[unit.lower()]
    return round(total)


def parse_situation(word: str) -> str | RoundCommandError | None:
    """A situation id, EACH (None), or an error naming the word."""
    key = word.strip().lower().replace("-", "_")
    words = _words()
    if key in words.each:
        return EACH
    ids = situation_ids()
    if key in ids:
        return key
    alias = words.situations.get(key) or words.situations.get(key.replace("_", ""))
    if alias in ids:
        return alias
    return _bad_arg(word)


def parse_start(args: str) -> StartOptions | RoundCommandError:
    found: dict[str, Any] = {}
    for key, value in _options(args or ""):
        setter = _SETTERS.get(key)
        if setter is None:
            return _bad_arg(value)
        error = setter(value, found)
        if error is not None:
            return error
    return StartOptions(**found)


def _options(args: str) -> list[tuple[str, str]]:
    """("window"|"situation"|"followups"|"word"|"unknown", value) pairs, in order."""
    text = _EQUALS.sub("=", args.strip())
    tokens = [t for t in _SEPARATORS.split(text) if t]
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        # "30 min", "2 hours": a number and its unit written apart
        if _NUMBER.fullmatch(token) and i + 1 < len(tokens) \
                and tokens[i + 1].lower() in _words().unit_seconds:
            token += tokens[i + 1]
            i += 1
        i += 1
        key, equals, value = token.partition("=")
        if equals:
            option = _words().options.get(key.lower())
            pairs.append((option, value) if option else ("unknown", token))
        else:
            pairs.append(("word", token))
    return pairs


def _set_window(value: str, found: dict[str, Any]) -> RoundCommandError | None:
    seconds = parse_window(value)
    if seconds is None or not MIN_WINDOW <= seconds <= MAX_WINDOW:
        return RoundCommandError("round_bad_window", {
            "given": value[:40], "min_minutes": MIN_WINDOW // 60,
            "max_days": MAX_WINDOW // 86400,
        })
    found["window"] = seconds
    return None


def _set_situation(value: str, found: dict[str, Any]) -> RoundCommandError | None:
    situation = parse_situation(value)
    if isinstance(situation, RoundCommandError):
        return situation
    found["situation"] = situation
    return None


def _set_followups(value: str, found: dict[str, Any]) -> RoundCommandError | None:
    switch = _words().switch.get(value.lower())
    if switch is None:
        return _bad_arg(f"followups={value}")
    found["followups"] = switch
    return None


def _set_mode(value: str, found: dict[str, Any]) -> RoundCommandError | None:
    mode = parse_mode(value)
    if mode is None:
        return _bad_arg(f"mode={value}")
    found["mode"] = None if mode == COACH else mode
    return None


def _set_word(word: str, found: dict[str, Any]) -> RoundCommandError | None:
    lowered = word.lower()
    followups = _words().followups
    if lowered in followups:
        found["followups"] = followups[lowered]
        return None
    if parse_mode(lowered) is not None:
        return _set_mode(lowered, found)
    if lowered[:1] in _DIGITS:
        return _set_window(word, found)
    return _set_situation(word, found)


_SETTERS = {
    "window": _set_window,
    "situation": _set_situation,
    "followups": _set_followups,
    "mode": _set_mode,
    "word": _set_word,
}


def _bad_arg(word: str) -> RoundCommandError:
    return RoundCommandError("round_bad_arg", {
        "given": word[:40], "situations": list(situation_ids()),
    })


# -- button ids ------------------------------------------------------------------------

CHOICE_PREFIX = "round"
_ROUND_ID = re.compile(r"[A-Za-z0-9_-]{1,12}")
_ANSWER_NO = re.compile(r"[0-9]{1,6}")
CHOICE_ARITY: dict[str, int] = {"join": 0, "share": 0, "rate": 2}


def join_choice(round_id: str) -> str:
    return f"{CHOICE_PREFIX}.{round_id}.join"


def share_choice(round_id: str) -> str:
    return f"{CHOICE_PREFIX}.{round_id}.share"


def rate_choice(round_id: str, answer_no: int, point: str) -> str:
    return f"{CHOICE_PREFIX}.{round_id}.rate.{answer_no}.{point}"


def parse_choice(choice_id: str) -> tuple[str, str, tuple[str, ...]] | None:
    """(round_id, action, args) of a round's button id, or None if it is none of ours."""
    prefix, *parts = (choice_id or "").split(".")
    if prefix != CHOICE_PREFIX or len(parts) < 2:
        return None
    round_id, action, *args = parts
    if not _ROUND_ID.fullmatch(round_id) or CHOICE_ARITY.get(action) != len(args):
        return None
    if action == "rate" and not (_ANSWER_NO.fullmatch(args[0]) and args[1]):
        return None
    return round_id, action, tuple(args)
