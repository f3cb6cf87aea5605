"""The rule files' must-fire and must-not-fire examples, run against the analyzer
(by the test suite and by ``leavewell check``, so a rule added in YAML is checked).

Two levels: a finding's ``examples`` are judged on the whole analysis (the finding is
raised or not, after suppressions); a rule entry's own ``examples`` are judged on the
entry alone (it finds its tags in the sentence or not), so a phrase family is pinned
by sentences that say the same thing in other words, and by near misses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.analyzer.reasons import ReasonTable, reason_table
from leavewell.dialogs.analyzer.rulebook import Rulebook, default_rulebook
from leavewell.dialogs.analyzer.rules import Pattern, Term
from leavewell.dialogs.script import default_script


def rule_entries(book: Rulebook | None = None) -> Iterator[tuple[str, Term | Pattern]]:
    """(language, entry) for every rule entry that declares its own examples."""
    book = book or default_rulebook()
    for lang, lexicon in book.lexicons.items():
        for row in (*lexicon.terms, *lexicon.patterns):
            if isinstance(row, Term | Pattern) and (row.examples.fire or row.examples.quiet):
                yield lang, row


def rule_matches(lang: str, rule: str, text: str) -> bool:
    """Whether the rule entry ``rule`` finds one of its tags in ``text``."""
    from leavewell.dialogs.analyzer.analysis import MATCHERS

    matcher = MATCHERS[lang]
    scan = matcher.scan(matcher.normalize(text))
    return rule in scan.origins.values()


def failing_examples(book: Rulebook | None = None) -> list[str]:
    """One line per example that does not behave as its rule file says."""
    book = book or default_rulebook()
    situations = default_script().situations
    failures = []
    for fid, rule in book.findings.items():
        for lang, examples in rule.examples.items():
            for expect, items in (("fire", examples.fire), ("quiet", examples.quiet)):
                for example in items:
                    spec = situations.get(example.situation)
                    if spec is None:
                        failures.append(f"{rule.file}: examples.{lang}.{expect}: unknown "
                                        f"situation {example.situation!r}")
                        continue
                    result = analyze(example.text, lang=lang, rubric=spec.rubric)
                    found = fid in {f.id for f in (*result.red_flags, *result.improvements,
                                                   *result.strengths)}
                    if found != (expect == "fire"):
                        verb = "should fire on" if expect == "fire" else "fires on"
                        failures.append(f"{rule.file}: {fid} {verb} ({lang}, "
                                        f"{example.situation}) {example.text!r}")
    if book is default_rulebook():
        # the reason table's combinations and the tags it reads
        failures += _failing_combinations(book, situations)
        failures += unread_reason_tags(book)
        # the entries' own examples, on the compiled rules
        for lang, row in rule_entries(book):
            for expect, items in (("fire", row.examples.fire), ("quiet", row.examples.quiet)):
                for text in items:
                    if rule_matches(lang, row.rule, text) != (expect == "fire"):
                        verb = "should match" if expect == "fire" else "matches"
                        failures.append(f"rule {row.rule} ({lang}) {verb} {text!r}")
    return failures


def unread_reason_tags(book: Rulebook, table: ReasonTable | None = None) -> list[str]:
    """A finding raised only through the reason table (``raised_by: reason``) is raised
    from the tags its kinds list: an entry tagged with another variant of that finding
    matches, passes its own examples and changes nothing. One line per such tag."""
    table = table or reason_table()
    read = {tag for tags in table.kinds.values() for tag in tags}
    failures = []
    for lang, lexicon in book.lexicons.items():
        # plain tuples are rows too (the matcher reads them as Term(*row), Pattern(*row))
        rows = (*(Term(*row) for row in lexicon.terms),
                *(Pattern(*row) for row in lexicon.patterns))
        for row in rows:
            for tag in row.tags.split():
                finding = book.findings.get(tag.split("~")[0])
                if finding is not None and finding.raised_by_reason and tag not in read:
                    failures.append(f"rule {row.rule or '?'} ({lang}): tag {tag!r} "
                                    f"is read by nothing: {finding.id} is raised only "
                                    "through the kinds of reasons.yaml, which do not list it")
    return failures


def _failing_combinations(book: Rulebook, situations: Mapping[str, Any]) -> list[str]:
    """Each combination of ``reasons.yaml`` names a finding, and its examples raise it
    (fire) or not (quiet) in their situation."""
    failures = []
    for combo in reason_table().combinations:
        if combo.means not in book.findings:
            failures.append(f"reasons.yaml: combination {combo.id}: unknown finding "
                            f"{combo.means!r}")
            continue
        for lang, examples in combo.examples.items():
            for expect, items in (("fire", examples.fire), ("quiet", examples.quiet)):
                for example in items:
                    spec = situations.get(example.situation)
                    if spec is None:
                        failures.append(f"reasons.yaml: combination {combo.id}: unknown "
                                        f"situation {example.situation!r}")
                        continue
                    result = analyze(example.text, lang=lang, rubric=spec.rubric)
                    found = combo.means in {f.id for f in result.red_flags}
                    if found != (expect == "fire"):
                        verb = "should raise" if expect == "fire" else "raises"
                        failures.append(f"reasons.yaml: combination {combo.id} {verb} "
                                        f"{combo.means} on ({lang}, {example.situation}) "
                                        f"{example.text!r}")
    return failures
