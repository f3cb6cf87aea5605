"""Choose the next follow-up from everything said so far. Pure.

The rules are data (scripts/followups.yaml): each follow-up names the findings that call
for it (``when``) and the ones that make it pointless (``unless``). After every answer
``next_followup`` looks at the whole exchange (dialogs.exchange) and picks, in order:

1. a check on an inconsistency the latest answer created;
2. a probe for a red flag in the latest answer (an unknown red flag gets the fallback);
3. a check or probe for something heard earlier and not yet asked about;
4. a question for a gap the main answer left open, the gaps the situation weighs most
   first;
5. the situation's own questions, then the mode's ``always`` list, unless what calls for
   them was already asked about.

Steps 1 to 3 are urgent: a red flag in the last answer may bring one probe past the
mode's number of follow-ups (never past ``modes.MAX_FOLLOWUPS``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.exchange import DRIFT, Exchange, Inconsistency
from leavewell.dialogs.modes import COACH, MODES

if TYPE_CHECKING:
    from leavewell.dialogs.script import SituationSpec

INCONSISTENT = "inconsistent"  # a `when` for answers that contradict each other


@dataclass(frozen=True, slots=True)
class FollowupRule:
    id: str
    when: frozenset[str]
    unless: frozenset[str]
    modes: frozenset[str]  # empty: every mode


@dataclass(frozen=True, slots=True)
class FollowupTable:
    rules: Mapping[str, FollowupRule]  # in declaration order
    fallback: str
    always: Mapping[str, tuple[str, ...]]  # per mode

    def calling(self, finding_id: str, mode: str) -> list[str]:
        """The follow-ups a finding calls for; the mode's own questions first."""
        called = [r for r in self.rules.values() if finding_id in r.when]
        return [r.id for r in sorted(called, key=lambda r: mode not in r.modes)]

    def names(self, finding_id: str) -> bool:
        return any(finding_id in r.when for r in self.rules.values())


@dataclass(frozen=True, slots=True)
class Pick:
    id: str
    probes: tuple[str, ...]  # what it asks about (finding ids or inconsistency keys)
    urgent: bool = False
    pair: dict[str, str] | None = None  # the two quotes of a consistency check


def inconsistency_key(inc: Inconsistency) -> str:
    return f"{INCONSISTENT}:{inc.id}"


def next_followup(
    table: FollowupTable,
    situation: SituationSpec,
    heard: Exchange,
    *,
    asked: Collection[str],
    probed: Collection[str],
    mode: str = COACH,
) -> Pick | None:
    given = heard.given
    latest = heard.answers - 1

    def usable(fid: str) -> bool:
        rule = table.rules.get(fid)
        return (rule is not None and fid not in asked and not (rule.unless & given)
                and (not rule.modes or mode in rule.modes))

    def still_open(fid: str) -> bool:
        """Not asked about yet by another question (a gap already probed is closed)."""
        return usable(fid) and not (table.rules[fid].when & set(probed))

    def probe_for(finding_id: str) -> str | None:
        named = [fid for fid in table.calling(finding_id, mode) if usable(fid)]
        if named:
            return named[0]
        return table.fallback if usable(table.fallback) else None

    def check(inc: Inconsistency, urgent: bool) -> Pick | None:
        fid = next((f for f in table.calling(INCONSISTENT, mode) if usable(f)), None)
        if fid is None or inc.first is None:
            return None
        pair = {"first": inc.first.evidence[0], "second": inc.second.evidence[0]}
        # The contradicting red flag is asked about by the same question.
        return Pick(fid, (inconsistency_key(inc), inc.second.id, inc.first.id), urgent, pair)

    fresh = [i for i in heard.inconsistencies
             if i.id != DRIFT and inconsistency_key(i) not in probed]
    for inc in fresh:
        if inc.second.answer == latest and (pick := check(inc, urgent=True)):
            return pick
    flags = [h for h in heard.red_flags if h.id not in probed]
    for h in flags:
        if h.answer == latest and (fid := probe_for(h.id)):
            return Pick(fid, (h.id,), urgent=True)
    for inc in fresh:
        if pick := check(inc, urgent=False):
            return pick
    for h in flags:
        if fid := probe_for(h.id):
            return Pick(fid, (h.id,))
    for gap in sorted(heard.gaps, key=lambda g: -situation.rubric.weight(g.id)):
        if gap.id in probed:
            continue
        fid = next((f for f in table.calling(gap.id, mode) if usable(f)), None)
        if fid is not None:
            return Pick(fid, (gap.id,))
    for fid in (*situation.followups, *table.always.get(mode, ())):
        if still_open(fid):
            return Pick(fid, ())
    return None


# -- loading and validation (called by dialogs.script.load_script) --------------------


def _ids(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ScriptError(f"{where}: must be a list of ids")
    return frozenset(value)


def load_table(data: Mapping[str, Any], name: str, followup_ids: Collection[str],
               finding_ids: Collection[str]) -> FollowupTable:
    """Validate followups.yaml: every follow-up has a text, every finding id is known
    (or `inconsistent`), every mode exists. Finding ids that appear later in the
    analyzer and are named nowhere here still work: they get the fallback probe."""
    raw = data.get("followups")
    if not isinstance(raw, dict):
        raise ScriptError(f"{name}: followups: must be a mapping")
    known = {*finding_ids, INCONSISTENT}
    rules: dict[str, FollowupRule] = {}
    for fid, spec in raw.items():
        where = f"{name}: followups.{fid}"
        if fid not in followup_ids:
            raise ScriptError(f"{where}: no text for it in en.yaml followups")
        if not isinstance(spec, dict):
            raise ScriptError(f"{where}: must be a mapping")
        unknown_keys = sorted(set(spec) - {"when", "unless", "modes"})
        if unknown_keys:
            raise ScriptError(f"{where}.{unknown_keys[0]}: unknown key")
        when = _ids(spec.get("when"), f"{where}.when")
        unless = _ids(spec.get("unless"), f"{where}.unless")
        for key, ids in (("when", when), ("unless", unless)):
            for finding in sorted(ids - known):
                raise ScriptError(f"{where}.{key}: unknown finding {finding!r}")
        modes = _ids(spec.get("modes"), f"{where}.modes")
        for mode in sorted(modes - set(MODES)):
            raise ScriptError(f"{where}.modes: unknown mode {mode!r}")
        rules[fid] = FollowupRule(fid, when, unless, modes)
    missing = sorted(set(followup_ids) - set(rules))
    if missing:
        raise ScriptError(f"{name}: followups.{missing[0]}: has a text but no rule")
    fallback = data.get("fallback")
    if fallback not in rules:
        raise ScriptError(f"{name}: fallback: unknown follow-up {fallback!r}")
    always_raw = data.get("always")
    if not isinstance(always_raw, dict):
        raise ScriptError(f"{name}: always: must be a mapping of mode to follow-ups")
    always: dict[str, tuple[str, ...]] = {}
    for mode in MODES:
        ids = always_raw.get(mode)
        if not isinstance(ids, list) or not ids:
            raise ScriptError(f"{name}: always.{mode}: must list follow-ups")
        for fid in ids:
            if fid not in rules:
                raise ScriptError(f"{name}: always.{mode}: unknown follow-up {fid!r}")
        always[mode] = tuple(ids)
    return FollowupTable(rules, fallback, always)
