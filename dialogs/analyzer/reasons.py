"""The stated reason for leaving: which kind comes first (the headline), which are
asides, and what each means in the declared situation (``rules/reasons.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import yaml

from leavewell.dialogs.analyzer import rulebook
from leavewell.dialogs.analyzer.matcher import Hits, Span
from leavewell.dialogs.errors import ScriptError

NONE = "none"


@dataclass(frozen=True, slots=True)
class Combination:
    """A reason kind (or a tag) that means a finding, wherever it is said, when the
    answer has none of the tags in ``without`` (``combinations`` in ``reasons.yaml``)."""

    id: str
    kinds: frozenset[str]
    without: tuple[str, ...]
    means: str
    situations: frozenset[str] = frozenset()  # empty: every situation
    examples: Mapping[str, rulebook.Examples] = field(default_factory=dict)
    tags: tuple[str, ...] = ()  # tags that count as said, besides the kinds
    with_: tuple[str, ...] = ()  # one of these tags must be found as well (``with``)
    headline_only: bool = False  # the kinds count only as the headline (``headline: true``)

    def applies(self, situation: str, stated: Mapping[str, list[Span]], hits: Hits,
                headline: str = "") -> bool:
        """``none`` counts as said when the answer states no reason at all."""
        return ((not self.situations or situation in self.situations)
                and (any(k == headline or (k in stated and not self.headline_only)
                         for k in self.kinds)
                     or any(hits.get(t) for t in self.tags))
                and (not self.with_ or any(hits.get(t) for t in self.with_))
                and not any(hits.get(t) for t in self.without))


@dataclass(frozen=True, slots=True)
class ReasonTable:
    kinds: Mapping[str, tuple[str, ...]]  # kind -> tags that state it
    direction: tuple[str, ...]
    not_headline: frozenset[str]
    markers: tuple[str, ...]  # tags that mark the next reason as the headline
    marker_reach: int  # how many characters after a marker the reason may start
    meaning: Mapping[str, Mapping[str, Mapping[str, str]]]  # situation -> kind -> role -> id
    asides: tuple[str, ...] = ()  # tags that mark a reason near them as one part only
    aside_reach: int = 25  # how far (characters) an aside marker reaches either way
    combinations: tuple[Combination, ...] = ()
    # kind -> how many times said makes it the headline, wherever it stands
    repeated: Mapping[str, int] = field(default_factory=dict)
    # tag -> the kinds it states (``kinds`` turned round: an answer has few tags)
    stating: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stating: dict[str, set[str]] = {}
        for kind, tags in self.kinds.items():
            for tag in tags:
                stating.setdefault(tag, set()).add(kind)
        object.__setattr__(self, "stating", {t: frozenset(k) for t, k in stating.items()})

    def means(self, situation: str, kind: str, role: str) -> str:
        """The finding id (or "ok") a reason kind means in a role; a headline that is
        framed by growth falls back to the plain headline when nothing says otherwise."""
        roles = (role, "headline") if role == "framed" else (role,)
        for key, wanted in ((k, r) for r in roles for k in (situation, "default")):
            value = self.meaning.get(key, {}).get(kind, {}).get(wanted)
            if value is not None:
                return value
        return "ok"



@dataclass(frozen=True, slots=True)
class Reasons:
    """What an answer gives as its reason."""

    headline: str  # a kind, or NONE
    stated: Mapping[str, list[Span]]  # kind -> spans, in order of appearance
    looks_forward: bool
    # kinds the answer itself rates as one part only ("pay is part of it"): when the
    # answer also looks forward, such a headline is judged as an aside
    rated_aside: frozenset[str] = frozenset()

    @property
    def asides(self) -> tuple[str, ...]:
        return tuple(k for k in self.stated if k != self.headline)


@cache
def reason_table() -> ReasonTable:
    where = "reasons.yaml"
    data = yaml.safe_load((rulebook.RULES_DIR / where).read_text(encoding="utf-8"))
    try:
        kinds = {str(k): tuple(map(str, v)) for k, v in data["kinds"].items()}
        direction = tuple(map(str, data["direction"]))
        not_headline = frozenset(map(str, data.get("not_headline", ())))
        markers = tuple(map(str, data.get("headline_markers", ())))
        marker_reach = int(data.get("headline_marker_reach", 30))
        asides = tuple(map(str, data.get("aside_markers", ())))
        aside_reach = int(data.get("aside_marker_reach", 25))
        repeated = {str(k): int(v) for k, v in (data.get("headline_when_repeated") or {}).items()}
        meaning = {
            str(situation): {str(kind): {str(r): str(f) for r, f in roles.items()}
                             for kind, roles in table.items()}
            for situation, table in data["meaning"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ScriptError(f"{where}: malformed: {exc}") from None
    for situation, table in meaning.items():
        for kind, roles in table.items():
            if kind not in kinds and kind != NONE:
                raise ScriptError(f"{where}: meaning.{situation}.{kind}: unknown reason kind")
            for role in roles:
                if role not in ("headline", "framed", "aside"):
                    raise ScriptError(f"{where}: meaning.{situation}.{kind}.{role}: "
                                      "use headline, framed or aside")
    for kind, times in repeated.items():
        if kind not in kinds or times < 2:
            raise ScriptError(f"{where}: headline_when_repeated.{kind}: a known kind, "
                              "said at least twice")
    combinations = tuple(_combination(entry, i, kinds, where)
                         for i, entry in enumerate(data.get("combinations") or ()))
    return ReasonTable(kinds, direction, not_headline, markers, marker_reach, meaning,
                       asides, aside_reach, combinations, repeated)


_COMBINATION_KEYS = frozenset({"id", "meaning", "kinds", "tags", "with", "without", "means",
                               "situations", "examples", "headline"})


def _combination(entry: object, index: int, kinds: Mapping[str, tuple[str, ...]],
                 where: str) -> Combination:
    at = f"{where}: combinations[{index}]"
    if not isinstance(entry, dict):
        raise ScriptError(f"{at}: must be a mapping")
    unknown = set(entry) - _COMBINATION_KEYS
    if unknown:
        raise ScriptError(f"{at}: unknown key(s) {sorted(unknown)}")
    try:
        combo = Combination(
            id=str(entry["id"]),
            kinds=frozenset(map(str, entry.get("kinds", ()))),
            without=tuple(map(str, entry.get("without", ()))),
            means=str(entry["means"]),
            situations=frozenset(map(str, entry.get("situations", ()))),
            examples=rulebook.parse_examples(entry.get("examples"), f"{at}.examples"),
            tags=tuple(map(str, entry.get("tags", ()))),
            with_=tuple(map(str, entry.get("with", ()))),
            headline_only=bool(entry.get("headline", False)),
        )
    except (KeyError, TypeError) as exc:
        raise ScriptError(f"{at}: malformed: {exc}") from None
    if not combo.kinds and not combo.tags:
        raise ScriptError(f"{at}: give kinds or tags")
    for kind in combo.kinds:
        if kind not in kinds and kind != NONE:
            raise ScriptError(f"{at}.kinds: unknown reason kind {kind!r}")
    return combo


def classify(hits: Hits, table: ReasonTable | None = None) -> Reasons:
    table = table or reason_table()
    stated: dict[str, list[Span]] = {}
    said = {kind for tag in hits for kind in table.stating.get(tag, ())}
    for kind, tags in table.kinds.items():
        if kind not in said:
            continue
        spans = [s for tag in tags if tag in hits for s in hits[tag]]
        if spans:
            spans.sort()
            stated[kind] = spans
    ordered = dict(sorted(stated.items(), key=lambda item: item[1][0]))
    substantive = [k for k in ordered if k != "vague"]
    # A complaint is its own red flag; the headline is what else the answer gives as its
    # reason ("the owner was a jerk and I'm here for the money": the money)
    others = [k for k in substantive if k not in table.not_headline]
    substantive = others or substantive
    # a reason rated as one part among others gives way to the others
    aside = [s for tag in table.asides for s in hits.get(tag, ())]
    rated_aside = frozenset(
        k for k in substantive
        if any(-table.aside_reach <= a[0] - span[1] <= table.aside_reach
               or 0 <= span[0] - a[1] <= table.aside_reach
               for span in ordered[k] for a in aside)
    )
    kept = [k for k in substantive if k not in rated_aside]
    if kept and rated_aside:
        substantive = kept + [k for k in substantive if k in rated_aside]
    marks = sorted(s[1] for tag in table.markers for s in hits.get(tag, ()))
    marked = [k for k in substantive
              if any(0 <= span[0] - end <= table.marker_reach
                     for span in ordered[k] for end in marks)]
    if not marked:  # said again and again, it is what the answer is about
        marked = [k for k in substantive if len(ordered[k]) >= table.repeated.get(k, 1 << 30)]
    substantive = marked[:1] + [k for k in substantive if k not in marked[:1]]
    headline = substantive[0] if substantive else ("vague" if "vague" in ordered else NONE)
    forward = any(hits.get(tag) for tag in table.direction)
    return Reasons(headline, ordered, forward, rated_aside)
