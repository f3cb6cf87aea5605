"""Interface language ≠ interview language, as pure transcripts of the dialog.

A Chinese-interface user practising an English interview, and an English-interface
user practising a Chinese one: what they are asked, which rules judge the answer,
which language the feedback explains itself in, and what happens when the answer is
in the other language, mixed, or has no words at all."""

from __future__ import annotations

from typing import Any

import pytest

from leavewell.dialogs.engine import Interviewer, StepResult
from leavewell.dialogs.events import ChoicePressed, Command, Event, TextAnswer
from leavewell.dialogs.render import HTML, PLAIN, Renderer, default_renderer
from tests.support.formats import telegram_html_problems

RISKY_EN = (
    "Honestly my boss was terrible and the pay wasn't enough. I guess I just wanted out, "
    "and I was kind of burned out by the long hours."
)
GOOD_ZH = (
    "公司去年裁员百分之三十，我所在的团队整体被裁。在那之前我负责的数据平台把报表时间缩短了一半。"
    "我和原来的经理一直保持联系，他愿意做我的推荐人。我希望在贵公司继续做数据分析。"
)
MIXED = "I left because 公司的发展方向变了，我想找一个 more stable 的团队 and grow there。"


class Session:
    def __init__(self) -> None:
        self.engine = Interviewer()
        self.renderer: Renderer = default_renderer()
        self.profile: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.at = 1_000.0
        self.last: StepResult | None = None

    def send(self, event: Event) -> list[str]:
        result = self.engine.step(self.profile, self.state, event)
        self.profile, self.state, self.last = result.profile, result.state, result
        return [self.renderer.render(o, PLAIN).text for o in result.outgoing]

    def tick(self) -> float:
        self.at += 5
        return self.at

    def command(self, name: str, args: str = "") -> list[str]:
        return self.send(Command(at=self.tick(), name=name, args=args))

    def text(self, text: str) -> list[str]:
        return self.send(TextAnswer(at=self.tick(), text=text))

    def press(self, choice: str) -> list[str]:
        return self.send(ChoicePressed(at=self.tick(), choice=choice))

    def templates(self) -> list[str]:
        assert self.last is not None
        return [o.template for o in self.last.outgoing]

    def outgoing(self, template: str) -> Any:
        assert self.last is not None
        return next(o for o in self.last.outgoing if o.template == template)

    def finish_followups(self, answer: str) -> list[str]:
        texts: list[str] = []
        for _ in range(4):
            texts = self.text(answer)
            if "feedback" in self.templates():
                return texts
        raise AssertionError(f"no feedback: {self.templates()}")


def test_chinese_interface_english_interview_end_to_end() -> None:
    s = Session()
    out = s.command("lang", "zh en")
    assert "之后我会用中文" in out[0] and "面试官会用英文提问" in out[1]
    assert s.profile["lang"] == "zh" and s.profile["interview_lang"] == "en"

    out = s.command("practice", "employed")
    question = out[-1]
    # the question in English, its Chinese hint under it, the instructions in Chinese
    assert "why are you looking to leave your current job?" in question
    assert "（提示：" in question and "你为什么想离开现在的工作" in question
    assert question.index("why are you looking") < question.index("提示")
    assert "请用英文作答" in question

    s.text(RISKY_EN)
    analysis = s.last.turn.analysis  # type: ignore[union-attr]
    assert analysis["lang"] == "en"  # English rules
    out = s.finish_followups("I stay in touch with my manager and I want to grow in data work.")
    feedback = s.outgoing("feedback")
    assert feedback.lang == "zh" and feedback.params["answer_lang"] == "en"
    text = next(t for t in out if "/100" in t)
    assert "面试官听到了什么" in text  # explained in Chinese ...
    assert "“boss was terrible”" in text  # ... quoting the English evidence exactly
    # stronger English phrasings, each with a Chinese gloss
    assert "更好的英文说法" in text
    phrases = feedback.params["phrases"]
    assert phrases and all(a["gloss"] for p in phrases for a in p["alternatives"])
    first = phrases[0]["alternatives"][0]
    assert f"→ {first['text']}（{first['gloss']}）" in text
    # the model answer is English, with its harder words glossed in Chinese
    assert "可以参考改写的示范回答" in text and "I've learned a lot" in text
    assert feedback.params["glossary"] and "词汇注释" in text


def test_hints_can_be_switched_off_and_back_on() -> None:
    s = Session()
    s.command("lang", "zh en")
    s.command("practice", "laid_off")
    out = s.command("lang", "hints off")
    assert "已关闭" in out[0]
    assert "提示" not in out[-1] and "why did you leave" in out[-1].lower()  # re-asked
    out = s.press("hints.on")
    assert "已开启" in out[0] and "提示" in out[-1]


def test_english_interface_chinese_interview() -> None:
    s = Session()
    s.command("lang", "en zh")
    out = s.command("practice", "laid_off")
    question = out[-1]
    assert "请问你为什么离开上一份工作" in question
    assert "(Let's begin. Tell me, why did you leave your last job?)" in question
    assert "Answer in Chinese" in question
    s.text(GOOD_ZH)
    assert s.last.turn.analysis["lang"] == "zh"  # type: ignore[union-attr]
    out = s.finish_followups("我和前主管一直保持联系，也一直在学习新的分析工具。")
    feedback = s.outgoing("feedback")
    text = next(t for t in out if "/100" in t)
    assert feedback.lang == "en" and "What the interviewer hears" in text
    assert feedback.params["phrases"] == []  # phrase help covers English answers
    assert "百分之三十" in text or "裁员" in text  # Chinese evidence quoted as written


def test_answer_in_the_other_language_is_analysed_with_its_own_rules() -> None:
    s = Session()
    s.command("lang", "zh en")
    s.command("practice", "laid_off")
    out = s.text(GOOD_ZH)
    assert "这段回答是中文" in out[0] and "按中文的规则" in out[0]
    assert s.last.turn.analysis["lang"] == "zh"  # type: ignore[union-attr]
    assert s.last.turn.meta["language"] == {"detected": "zh", "expected": "en"}  # type: ignore[union-attr]


@pytest.mark.parametrize(("answer", "message"), [
    (MIXED, "answer_mixed_language"),
    ("🙂👍🔥 !!! 123", "answer_no_words"),
])
def test_mixed_or_wordless_answer_is_not_scored_and_asked_again(answer: str,
                                                                message: str) -> None:
    s = Session()
    s.command("lang", "zh en")
    s.command("practice", "laid_off")
    s.text(answer)
    assert s.templates() == [message]
    assert s.last.turn.analysis is None  # type: ignore[union-attr]
    assert s.state["stage"] == "answer_main" and s.state["answer"] is None
    assert s.last.turn.text == answer  # kept in the turn log: nothing is lost
    s.text(RISKY_EN)
    assert s.last.turn.analysis["lang"] == "en"  # type: ignore[union-attr]


def test_lang_menu_offers_both_settings_as_buttons() -> None:
    s = Session()
    s.command("lang", "zh")
    out = s.command("lang")
    menu = s.outgoing("lang_menu")
    assert [c.id for c in menu.choices] == ["lang.en", "lang.zh", "ilang.en", "ilang.zh",
                                            "hints.off"]
    assert "界面语言：中文；面试语言：中文" in out[0]
    out = s.press("ilang.en")
    assert s.profile["interview_lang"] == "en" and "面试官会用英文提问" in out[0]
    # back to the interface's language: stored as "follow the interface"
    s.press("ilang.zh")
    assert s.profile["interview_lang"] is None
    s.command("lang", "interview en")
    s.press("lang.en")  # the interface follows English too: the languages agree again
    assert s.profile["lang"] == "en" and s.profile["interview_lang"] == "en"


@pytest.mark.parametrize("ui", ["en", "zh"])
def test_every_language_message_renders_as_valid_telegram_html(ui: str) -> None:
    s = Session()
    other = "zh" if ui == "en" else "en"
    s.command("lang", f"{ui} {other}")
    s.command("practice", "quit")
    s.text(MIXED)
    s.text("😀")
    s.text(GOOD_ZH if other == "en" else RISKY_EN)
    s.finish_followups(RISKY_EN if other == "en" else GOOD_ZH)
    s.command("lang")
    for outgoing in s.last.outgoing:  # type: ignore[union-attr]
        html = s.renderer.render(outgoing, HTML).text
        assert telegram_html_problems(html) == []


@pytest.mark.parametrize(("args", "expected"), [
    ("中文", {"lang": "zh"}),
    ("english chinese", {"lang": "en", "interview_lang": "zh"}),
    ("interview en", {"interview_lang": None}),  # the same as the interface: "follow it"
    ("hints off", {"hints": False}),
])
def test_lang_arguments_in_words(args: str, expected: dict[str, Any]) -> None:
    s = Session()
    s.command("lang", "en")
    s.command("lang", args)
    assert {k: s.profile.get(k) for k in expected} == expected


@pytest.mark.parametrize("args", ["enough", "zhxx", "hints maybe", "hints", "interview",
                                  "en zh fr"])
def test_lang_arguments_not_understood_show_the_menu(args: str) -> None:
    s = Session()
    s.command("lang", "en")
    before = dict(s.profile)
    s.command("lang", args)
    assert s.templates() == ["lang_menu"] and s.profile == before


def test_changing_both_languages_mid_question_asks_it_once() -> None:
    s = Session()
    s.command("lang", "en")
    s.command("practice", "laid_off")
    s.command("lang", "zh en")
    assert s.templates() == ["lang_set", "interview_lang_set", "main_question"]
