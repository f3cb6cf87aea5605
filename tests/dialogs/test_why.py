"""Transcripts of "Why was this flagged?": /why, /why N, the buttons, and "I disagree"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from leavewell.dialogs.analyzer.messages import finding_field
from leavewell.dialogs.engine import DialogSettings, Interviewer
from leavewell.dialogs.events import ChoicePressed
from leavewell.dialogs.findings import Analysis, Evidence, Finding
from leavewell.dialogs.script import default_script
from tests.support.transcript import Transcript

BITTER_EN = (
    "My boss was a jerk and honestly the pay was terrible, so I left. I guess it was "
    "kind of their fault that the project failed."
)
BITTER_ZH = "我的老板很糟糕，工资也太低了，所以我走了。"


def catalog_text(lang: str, key: str) -> str:
    return default_script().catalogs[lang].messages[key]


def signal_name(lang: str, signal: str) -> str:
    return catalog_text(lang, f"why_signal_{signal}")


def label(lang: str, key: str) -> str:
    return default_script().catalogs[lang].labels[key]


def feedback_after(t: Transcript, answer: str) -> str:
    t.say(answer)
    while t.stage == "answer_followup":
        t.press("skip")
    assert t.stage == "after_feedback"
    return t.render(t.outgoing("feedback"))


def why_buttons(t: Transcript) -> list[tuple[str, str]]:
    assert t.last is not None
    return [(c.id, c.label) for o in t.last.outgoing for c in o.choices
            if c.id.startswith("why.")]


def press_id(t: Transcript, choice: str) -> str:
    return t.send(ChoicePressed(at=t.tick(), choice=choice))


def numbered(t: Transcript) -> list[dict[str, Any]]:
    params = t.outgoing("feedback").params
    return [f for key in ("red_flags", "improvements") for f in params[key]]


@pytest.mark.parametrize(("lang", "answer"), [("en", BITTER_EN), ("zh", BITTER_ZH)])
def test_feedback_numbers_its_findings_and_offers_why(lang: str, answer: str) -> None:
    t = Transcript()
    t.through_setup(lang, "laid_off")
    text = feedback_after(t, answer)
    shown = numbered(t)
    assert [f["no"] for f in shown] == list(range(1, len(shown) + 1))
    assert f"✗ 1. {finding_field(shown[0]['id'], lang, 'message')}" in text
    ((choice, name),) = why_buttons(t)
    assert choice.endswith(".list") and name == label(lang, "why_open")
    assert len(choice.encode()) <= 64 and choice.isascii()
    assert "/why: " + label(lang, "why_open") in text  # the console's typed line


def test_why_lists_every_numbered_finding_with_a_button() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    feedback_after(t, BITTER_EN)
    shown = numbered(t)
    reply = t.command("why")
    assert f"has {len(shown)} numbered points" in reply
    buttons = why_buttons(t)
    assert [name for _, name in buttons] == [
        f"{n}. {finding_field(f['id'], 'en', 'name')}" for n, f in enumerate(shown, 1)]
    assert f"/why 2: 2. {finding_field(shown[1]['id'], 'en', 'name')}" in reply
    # pressing the feedback's own button gives the same list
    assert press_id(t, "why.1.list") == reply


def test_explanation_quotes_the_words_and_says_why_in_english() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    feedback_after(t, BITTER_EN)
    first = t.state["why"]["findings"][0]
    assert first["id"] == "trash_talk"
    suggested = next(p for p in t.outgoing("feedback").params["phrases"]
                     if p["phrase"] == first["evidence"][0])
    reply = t.command("why", "1")
    for words in first["evidence"]:
        assert words in BITTER_EN and f"“{words}”" in reply
    assert finding_field("trash_talk", "en", "infer") in reply
    assert finding_field("trash_talk", "en", "tip") in reply
    assert signal_name("en", first["signal"]) in reply and f"(rule {first['rule']})" in reply
    assert first["rule"].startswith("trash_talk.")
    # the same stronger wordings the feedback offered for these words ("boss": manager)
    assert "My manager and I" in suggested["alternatives"][0]["text"]
    assert all(f"→ {a['text']}" in reply for a in suggested["alternatives"])
    ((choice, name),) = why_buttons(t)
    assert choice == "why.1.1.no" and name == "I disagree"
    assert "/why 1 disagree: I disagree" in reply


def test_explanation_in_chinese_with_the_chinese_signal_name() -> None:
    t = Transcript()
    t.through_setup("zh", "laid_off")
    feedback_after(t, BITTER_ZH)
    first = t.state["why"]["findings"][0]
    reply = press_id(t, "why.1.1")
    assert reply.startswith("第 1 点：" + finding_field(first["id"], "zh", "name"))
    assert f"“{first['evidence'][0]}”" in reply and first["evidence"][0] in BITTER_ZH
    assert finding_field(first["id"], "zh", "infer") in reply
    assert signal_name("zh", first["signal"]) in reply
    assert finding_field(first["id"], "zh", "tip") in reply
    assert why_buttons(t) == [("why.1.1.no", "我不同意")]


def test_an_english_answer_explained_in_a_chinese_interface_glosses_the_wordings() -> None:
    t = Transcript()
    t.through_setup("zh", "laid_off")
    t.command("lang", "zh en")
    feedback_after(t, BITTER_EN)
    suggested = t.outgoing("feedback").params["phrases"][0]
    assert suggested["phrase"] == "jerk"
    reply = t.command("why", "1")
    for alternative in suggested["alternatives"]:
        assert f"→ {alternative['text']}（{alternative['gloss']}）" in reply
    assert "“jerk”" in reply and "面试官会怎么想" in reply


@pytest.mark.parametrize(("lang", "typed"), [("en", "disagree"), ("zh", "不同意")])
def test_disagreeing_is_stored_once(lang: str, typed: str) -> None:
    t = Transcript()
    t.through_setup(lang, "laid_off")
    feedback_after(t, BITTER_EN if lang == "en" else BITTER_ZH)
    first = t.state["why"]["findings"][0]
    t.command("why", "1")
    thanks = press_id(t, "why.1.1.no")
    assert thanks == t.render(t.outgoing("why_thanks"))
    assert finding_field(first["id"], lang, "name") in thanks
    (record,) = t.profile["disagreements"]
    assert record == {
        "at": t.clock, "feedback_at": t.state["why"]["at"], "number": 1,
        "finding": first["id"], "kind": "red_flag", "rule": first["rule"],
        "signal": first["signal"], "evidence": first["evidence"], "followup": False,
        "situation": "laid_off", "answer_lang": lang, "ui_lang": lang,
    }
    again = press_id(t, "why.1.1.no")
    assert again == t.render(t.outgoing("why_already_noted"))
    t.command("why", f"1 {typed}")
    assert t.last is not None and t.last.outgoing[0].template == "why_already_noted"
    assert len(t.profile["disagreements"]) == 1
    t.command("why", f"2 {typed}")
    assert [d["number"] for d in t.profile["disagreements"]] == [1, 2]


def test_why_works_later_on_the_latest_feedback_and_old_buttons_go_stale() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    feedback_after(t, BITTER_EN)
    t.press("retry")
    assert t.stage == "answer_main"
    assert "“jerk”" in t.command("why", "1")
    assert t.stage == "answer_main"  # nothing about the round changed
    feedback_after(t, "My manager was a jerk to everyone.")
    assert t.state["why"]["tag"] == 2
    stale = press_id(t, "why.1.1.no")
    assert stale == catalog_text("en", "why_stale")
    assert t.profile["disagreements"] == []
    press_id(t, "why.2.1.no")
    assert t.profile["disagreements"][0]["evidence"] == t.state["why"]["findings"][0]["evidence"]
    # typing the number of a button of the stage still answers the stage, not /why
    t.say("2")
    assert t.stage == "choose_situation"


def test_why_before_any_feedback_and_with_bad_numbers() -> None:
    t = Transcript()
    assert t.command("why") == catalog_text("en", "why_none")
    assert t.profile["lang"] == "en"  # a first contact that starts with /why
    t.through_setup("en", "laid_off")
    t.command("why", "1")
    assert t.last is not None and t.last.outgoing[0].template == "why_none"
    feedback_after(t, BITTER_EN)
    count = len(t.state["why"]["findings"])
    for args in ("0", str(count + 1), "abc", "1 maybe"):
        reply = t.command("why", args)
        assert t.last.outgoing[0].template == "why_unknown", args
        assert f"up to /why {count}" in reply
    assert t.profile["disagreements"] == []


def test_forget_deletes_the_disagreements() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    feedback_after(t, BITTER_EN)
    t.command("why", "1 disagree")
    assert len(t.profile["disagreements"]) == 1
    t.command("forget")
    press_id(t, "forget.yes")
    assert t.last is not None and t.last.forget
    assert t.profile.get("disagreements") == [] and t.state["why"] is None


# -- the analyzer's side: what it says about each finding ------------------------------


class Stub:
    """An analyzer that reports exactly the given findings."""

    def __init__(self, red: tuple[Finding, ...] = (), improvements: tuple[Finding, ...] = (),
                 drop_keys: tuple[str, ...] = ()) -> None:
        self.red, self.improvements, self.drop_keys = red, improvements, drop_keys

    def __call__(self, text: str, **kwargs: Any) -> Any:
        analysis = Analysis(
            lang=kwargs["lang"], situation="laid_off", verdict="red_flag" if self.red else "strong",
            score=40 if self.red else 90, red_flags=self.red, improvements=self.improvements,
            strengths=(), word_count=len(text.split()), speaking_seconds=20.0)
        drop = self.drop_keys

        class Stored:
            @staticmethod
            def to_dict() -> dict[str, Any]:
                data = analysis.to_dict()
                for key in ("red_flags", "improvements"):
                    for finding in data[key]:
                        for gone in drop:
                            finding.pop(gone)
                return data

        return Stored()


def stub_transcript(analyzer: Stub) -> Transcript:
    engine = Interviewer(settings=DialogSettings(max_followups=1), analyzer=analyzer)
    t = Transcript(engine)
    t.through_setup("en", "laid_off")
    return t


def spans(answer: str, *words: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(answer.index(w), answer.index(w) + len(w), w) for w in words)


def test_the_rule_and_signal_that_fired_are_shown() -> None:
    answer = "My supervisor ran the place like a prison."
    insult = Finding("trash_talk", "red_flag", "m", spans(answer, "like a prison"),
                     rule="trash_talk.insult", signal="lexicon")
    short = Finding("too_short", "improvement", "m", signal="length")
    t = stub_transcript(Stub((insult,), (short,)))
    feedback_after(t, answer)
    reply = t.command("why", "1")
    assert "“like a prison”" in reply
    assert f"{signal_name('en', 'lexicon')} (rule trash_talk.insult)" in reply
    # the length has its own pacing line in the feedback (issue 13), not a numbered point
    assert "There is no point “2”" in t.command("why", "2")
    t.command("why", "1 disagree")
    record = t.profile["disagreements"][0]
    assert (record["rule"], record["signal"]) == ("trash_talk.insult", "lexicon")


def test_analyses_stored_before_rules_and_signals_are_still_explained() -> None:
    answer = "It was time."
    old = Stub((Finding("evasive", "red_flag", "m", spans(answer, "It was time")),),
               (Finding("no_growth", "improvement", "m"),), drop_keys=("rule", "signal"))
    t = stub_transcript(old)
    feedback_after(t, answer)
    assert [(f["rule"], f["signal"]) for f in t.state["why"]["findings"]] == [
        ("evasive", "rule"), ("no_growth", "absence")]
    reply = t.command("why", "2")
    assert "None: this point is about something your answer leaves out." in reply
    assert signal_name("en", "absence") in reply


def test_nothing_flagged_offers_no_button() -> None:
    t = stub_transcript(Stub())
    feedback_after(t, "A fine answer.")
    assert why_buttons(t) == []
    assert t.command("why") == t.render(t.outgoing("why_nothing_flagged"))


def test_a_single_finding_opens_directly() -> None:
    answer = "My boss was a jerk."
    t = stub_transcript(Stub((Finding("trash_talk", "red_flag", "m", spans(answer, "jerk")),)))
    feedback_after(t, answer)
    reply = press_id(t, "why.1.list")
    assert reply.startswith("Point 1: Negative about the old job")


def every_choice(t: Transcript) -> Iterator[str]:
    assert t.last is not None
    for outgoing in t.last.outgoing:
        for choice in outgoing.choices:
            yield choice.id


def test_buttons_fit_telegram_and_discord_even_with_many_findings() -> None:
    t = Transcript()
    t.through_setup("en", "let_go")
    feedback_after(t, BITTER_EN)
    t.command("why")
    ids = list(every_choice(t))
    assert len(ids) == len(t.state["why"]["findings"]) <= 25
    t.command("why", str(len(ids)))
    ids += list(every_choice(t))
    assert all(i.isascii() and len(i.encode()) <= 64 for i in ids)


def test_a_typed_choice_survives_the_outbox_and_only_buttons_get_numbers() -> None:
    from leavewell.dialogs.outgoing import Choice, Outgoing
    from leavewell.dialogs.render import PLAIN, default_renderer

    outgoing = Outgoing("ask_next", "en", choices=(
        Choice("why.1.list", "Why was this flagged?", typed="/why"), Choice("3.retry", "Again")))
    stored = outgoing.to_dict()
    assert stored["choices"] == [
        {"id": "why.1.list", "label": "Why was this flagged?", "typed": "/why"},
        {"id": "3.retry", "label": "Again"}]
    assert Outgoing.from_dict(stored) == outgoing
    text = default_renderer().render(outgoing, PLAIN, numbered_choices=True).text
    assert text.endswith("1. Again\n/why: Why was this flagged?")
