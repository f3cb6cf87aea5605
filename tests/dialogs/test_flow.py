"""flow.yaml is enforced: every change of state is declared there, as a state's `next` or as
a jump from any state, and a transition declared nowhere fails loudly."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import event as observed
from hypothesis import strategies as st

from leavewell.dialogs.diagram import mermaid
from leavewell.dialogs.engine import Interviewer, StepResult, Turn
from leavewell.dialogs.engine.flow import enter, move
from leavewell.dialogs.errors import FlowError, ScriptError
from leavewell.dialogs.events import (
    COMMANDS,
    ChoicePressed,
    Command,
    Event,
    Resume,
    RoundInvite,
    Start,
    TextAnswer,
    Timeout,
    Unsupported,
)
from leavewell.dialogs.script import SCRIPTS_DIR, load_script
from leavewell.dialogs.state import Interview, Profile

ENGINE = Interviewer()
# Read here on its own, so the checks below do not trust the engine's reading of it.
FLOW = yaml.safe_load((SCRIPTS_DIR / "flow.yaml").read_text(encoding="utf-8"))
NEXT = {sid: set(spec.get("next") or ()) for sid, spec in FLOW["states"].items()}
JUMPS = {(kind, name): set(targets)
         for kind, causes in FLOW["jumps"].items() for name, targets in causes.items()}
GOOD_EN = ("Our team was cut when the company lost its biggest client. I led the move of "
           "our reporting to Python and saved ten hours a week, my manager is one of my "
           "references, and I want to grow into data engineering in a role like this one.")
RISKY_EN = "Honestly my boss was a jerk and the pay was bad, so I just walked out."
GOOD_ZH = "公司失去了最大的客户，整个团队被裁。我负责把报表迁移到 Python，每周节省了10个小时。"


def cause_of(event: Event) -> tuple[str, str] | None:
    """What flow.yaml calls the maker of a jump, for this event."""
    match event:
        case Command(name=name) if name.lower() in COMMANDS:
            return ("commands", name.lower())
        case Start():
            return ("commands", "start")
        case Timeout():
            return ("events", "timeout")
        case RoundInvite():
            return ("events", "round_invite")
        case ChoicePressed(choice=choice):
            return ("buttons", choice.partition(".")[0])
    return None


def declared(before: str, after: str, cause: tuple[str, str] | None) -> bool:
    return after == before or after in NEXT[before] or after in JUMPS.get(cause or ("", ""), ())


class Driver:
    def __init__(self, engine: Interviewer = ENGINE) -> None:
        self.engine = engine
        self.profile: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.clock = 1_700_000_000.0
        self.last: StepResult | None = None

    @property
    def stage(self) -> str:
        return str(self.state.get("stage", "new"))

    def send(self, event: Event) -> StepResult:
        result = self.engine.step(self.profile, self.state, event)
        self.profile, self.state, self.last = result.profile, result.state, result
        return result

    def at(self, gap: float = 5) -> float:
        self.clock += gap
        return self.clock

    def buttons(self) -> list[str]:
        if self.last is None:
            return []
        return [c.id for o in self.last.outgoing for c in o.choices]

    def press(self, value: str) -> StepResult:
        ids = [b for b in self.buttons() if b.split(".", 1)[1] == value]
        assert ids, f"no button {value!r} in {self.buttons()}"
        return self.send(ChoicePressed(at=self.at(), choice=ids[-1]))

    def command(self, name: str, args: str = "") -> StepResult:
        return self.send(Command(at=self.at(), name=name, args=args))

    def say(self, text: str) -> StepResult:
        return self.send(TextAnswer(at=self.at(), text=text))

    def set_up(self) -> None:
        """A user who has chosen English and skipped the role: at choose_situation."""
        self.send(Start(at=self.at(), lang_hint="en"))
        self.say("skip")
        self.say("skip")
        assert self.stage == "choose_situation"


def a_turn(stage: str, cause: tuple[str, str] | None = None) -> Turn:
    turn = Turn(ENGINE, Profile(lang="en"), Interview(stage=stage), at=1.0)
    turn.cause = cause
    return turn


# -- an undeclared transition fails ---------------------------------------------------


def test_an_answer_may_only_go_to_the_states_next() -> None:
    turn = a_turn("ask_role")
    with pytest.raises(FlowError, match=r"ask_role -> after_feedback \(made by an answer"):
        move(ENGINE, turn, "after_feedback")
    assert turn.iv.stage == "ask_role"  # nothing changed
    move(ENGINE, turn, "ask_company")
    assert turn.iv.stage == "ask_company"


def test_a_jump_may_only_go_where_its_cause_is_declared_to() -> None:
    with pytest.raises(FlowError, match=r"ask_role -> idle \(made by commands.role\)"):
        move(ENGINE, a_turn("ask_role", ("commands", "role")), "idle")
    with pytest.raises(FlowError, match=r"made by commands.help"):
        enter(ENGINE, a_turn("idle", ("commands", "help")), "ask_role")
    turn = a_turn("answer_followup", ("commands", "stop"))
    move(ENGINE, turn, "idle")
    assert turn.iv.stage == "idle"


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    target = tmp_path / "scripts"
    shutil.copytree(SCRIPTS_DIR, target)
    return target


def edit_flow(scripts: Path, change) -> None:
    path = scripts / "flow.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_a_command_whose_jump_is_not_declared_fails(scripts: Path) -> None:
    edit_flow(scripts, lambda d: d["jumps"]["commands"].pop("stop"))
    driver = Driver(Interviewer(script=load_script(scripts)))
    driver.set_up()
    with pytest.raises(FlowError, match=r"choose_situation -> idle \(made by commands.stop\)"):
        driver.command("stop")


def test_a_timeout_whose_jump_is_not_declared_fails(scripts: Path) -> None:
    edit_flow(scripts, lambda d: d["jumps"].pop("events"))
    driver = Driver(Interviewer(script=load_script(scripts)))
    driver.set_up()
    with pytest.raises(FlowError, match=r"made by events.timeout"):
        driver.send(Timeout(at=driver.at(3 * 3600)))


def test_a_next_that_is_not_declared_fails(scripts: Path) -> None:
    edit_flow(scripts, lambda d: d["states"]["ask_detail"].update(next=[]))
    driver = Driver(Interviewer(script=load_script(scripts)))
    driver.set_up()
    driver.press("between_jobs")
    assert driver.stage == "ask_detail"
    with pytest.raises(FlowError, match=r"ask_detail -> answer_main \(made by an answer"):
        driver.say("six months")


@pytest.mark.parametrize(("change", "error"), [
    (lambda j: j.update(anywhere={"stop": ["idle"]}), r"jumps.anywhere: must be one of"),
    (lambda j: j["commands"].update(dance=["idle"]), r"jumps.commands.dance: unknown command"),
    (lambda j: j["events"].update(sunrise=["idle"]), r"jumps.events.sunrise: unknown event"),
    (lambda j: j["commands"].update(stop=["nowhere"]), r"jumps.commands.stop: unknown state"),
    (lambda j: j["commands"].update(stop=[]), r"jumps.commands.stop: lists no state"),
])
def test_jump_mistakes_are_named(scripts: Path, change, error: str) -> None:
    edit_flow(scripts, lambda d: change(d["jumps"]))
    with pytest.raises(ScriptError, match=rf"flow.yaml: {error}"):
        load_script(scripts)


def test_a_jump_by_a_button_the_code_lacks_is_refused(scripts: Path) -> None:
    edit_flow(scripts, lambda d: d["jumps"]["buttons"].update(teleport=["idle"]))
    with pytest.raises(ScriptError, match=r"jumps.buttons.teleport: no such button"):
        Interviewer(script=load_script(scripts))


def test_a_state_reached_only_by_a_jump_is_reachable(scripts: Path) -> None:
    def only_by_role(d: dict) -> None:
        for spec in d["states"].values():
            spec["next"] = [s for s in spec.get("next") or () if s != "ask_role"]
    edit_flow(scripts, only_by_role)
    load_script(scripts)  # /role still leads there
    edit_flow(scripts, lambda d: d["jumps"]["commands"].pop("role"))
    edit_flow(scripts, lambda d: d["jumps"]["commands"].update(
        start=["choose_lang", "choose_situation"]))
    with pytest.raises(ScriptError, match=r"states\.ask_\w+: unreachable"):
        load_script(scripts)


# -- every declared jump is one the code makes ----------------------------------------


def at_situation(driver: Driver) -> None:
    driver.set_up()


def at_answer(driver: Driver) -> None:
    driver.set_up()
    driver.press("laid_off")
    assert driver.stage == "answer_main"


def at_lang_choice(driver: Driver) -> None:
    driver.send(Start(at=driver.at()))
    assert driver.stage == "choose_lang"


def at_role(driver: Driver) -> None:
    driver.send(Start(at=driver.at(), lang_hint="en"))
    assert driver.stage == "ask_role"


def invite(situation: str | None):
    return lambda d: d.send(RoundInvite(at=d.at(), round_id="r1", situation=situation))


JUMP_SCENARIOS = [
    (("commands", "start"), "choose_lang", at_lang_choice, lambda d: d.command("start")),
    (("commands", "start"), "ask_role", at_role, lambda d: d.command("start")),
    (("commands", "start"), "choose_situation", at_situation, lambda d: d.command("start")),
    (("commands", "practice"), "choose_situation", at_role, lambda d: d.command("practice")),
    (("commands", "practice"), "ask_detail", at_role,
     lambda d: d.command("practice", "between_jobs")),
    (("commands", "practice"), "answer_main", at_role,
     lambda d: d.command("practice", "laid_off")),
    (("commands", "retry"), "choose_situation", at_role, lambda d: d.command("retry")),
    (("commands", "retry"), "answer_main", at_answer, lambda d: d.command("retry")),
    (("commands", "role"), "ask_role", at_situation, lambda d: d.command("role")),
    (("commands", "stop"), "idle", at_situation, lambda d: d.command("stop")),
    (("buttons", "forget"), "new", at_situation,
     lambda d: (d.command("forget"), d.press("yes"))),
    (("events", "timeout"), "idle", at_answer,
     lambda d: d.send(Timeout(at=d.at(3 * 3600)))),
    (("events", "round_invite"), "choose_situation", at_role, invite(None)),
    (("events", "round_invite"), "ask_detail", at_role, invite("between_jobs")),
    (("events", "round_invite"), "answer_main", at_role, invite("laid_off")),
]


@pytest.mark.parametrize(("cause", "target", "arrange", "act"), JUMP_SCENARIOS,
                         ids=[f"{c[1]}->{t}" for c, t, _, _ in JUMP_SCENARIOS])
def test_each_declared_jump_is_made_by_its_cause(cause, target, arrange, act) -> None:
    driver = Driver()
    arrange(driver)
    before = driver.stage
    assert target not in NEXT[before], "the scenario must need the jump"
    act(driver)
    assert driver.stage == target


def test_the_scenarios_cover_every_declared_jump() -> None:
    covered = {(cause, target) for cause, target, _, _ in JUMP_SCENARIOS}
    assert covered == {(cause, t) for cause, targets in JUMPS.items() for t in targets}


# -- random use never leaves the declared flow ----------------------------------------

COMMAND_ARGS = ["", "laid_off", "between_jobs", "zh", "zh en", "interview zh", "hints off",
                "skeptical", "coach", "1", "1 disagree", "nope"]
TEXTS = [GOOD_EN, RISKY_EN, GOOD_ZH, "1", "2", "3", "4", "9", "skip", "跳过", "", "Analyst",
         "Acme", "retry", "another", "stop", "laid_off", "six months", "🙂", "x" * 6000]


@st.composite
def an_event(draw: st.DrawFn, driver: Driver) -> Event:
    kind = draw(st.sampled_from(["button", "button", "button", "text", "text", "command",
                                 "timeout", "invite", "other"]))
    gap = draw(st.sampled_from([1.0, 30.0, 3 * 3600.0]) if kind == "timeout" else st.just(5.0))
    at = driver.at(gap)
    buttons = driver.buttons()
    if kind == "button" and buttons:
        return ChoicePressed(at=at, choice=draw(st.sampled_from(buttons)))
    if kind == "button":
        return ChoicePressed(at=at, choice=draw(st.sampled_from(
            ["forget.yes", "mode.retry_skeptical", "lang.zh", "1.skip", "round.x.share"])))
    if kind == "text":
        return TextAnswer(at=at, text=draw(st.sampled_from(TEXTS) | st.text(max_size=40)),
                          voice_seconds=draw(st.none() | st.just(20.0)))
    if kind == "command":
        return Command(at=at, name=draw(st.sampled_from(COMMANDS) | st.just("dance")),
                       args=draw(st.sampled_from(COMMAND_ARGS)))
    if kind == "timeout":
        return Timeout(at=at)
    if kind == "invite":
        return RoundInvite(at=at, round_id=draw(st.sampled_from(["r1", "r2"])),
                           situation=draw(st.sampled_from([None, "laid_off", "between_jobs"])),
                           followups=draw(st.booleans()))
    return draw(st.sampled_from([Start(at=at, lang_hint="en"), Start(at=at), Resume(at=at),
                                 Unsupported(at=at)]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_use_only_makes_declared_transitions(data: st.DataObject) -> None:
    driver = Driver()
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        event = data.draw(an_event(driver))
        before = driver.stage
        result = driver.send(event)  # an undeclared transition raises FlowError
        after = result.state["stage"]
        assert declared(before, after, cause_of(event)), (before, after, event)
        if after != before:
            observed(f"{before} -> {after}")
        assert result.turn.meta["stage_before"] == before
        assert result.turn.meta["stage_after"] == after


# -- the picture ------------------------------------------------------------------------


def test_the_diagram_draws_every_transition_and_jump() -> None:
    picture = mermaid()
    for sid, targets in NEXT.items():
        for target in targets:
            assert f"    {sid} --> {target}\n" in picture
    for (kind, name), targets in JUMPS.items():
        label = {"commands": f"/{name}", "buttons": f"{name} button"}.get(
            kind, name.replace("_", " "))
        for target in targets:
            start = f"    any_state --> {target}: "
            line = next(x for x in picture.splitlines() if x.startswith(start))
            assert label in line.removeprefix(start).split(", ")


def test_a_flow_without_jumps_draws_no_any_state(scripts: Path) -> None:
    edit_flow(scripts, lambda d: d.pop("jumps"))
    edit_flow(scripts, lambda d: d["states"]["new"].update(
        next=[*d["states"]["new"]["next"], "idle"]))
    assert "any_state" not in mermaid(load_script(scripts))
