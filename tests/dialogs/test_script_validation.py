"""The declared scripts load, and every kind of mistake names its file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.script import SCRIPTS_DIR, load_script


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    target = tmp_path / "scripts"
    shutil.copytree(SCRIPTS_DIR, target)
    return target


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_shipped_scripts_are_valid() -> None:
    script = load_script()
    assert script.start == "new"
    assert set(script.situation_order) == {
        "employed", "laid_off", "let_go", "between_jobs", "quit", "contract_ended",
        "relocation_family", "career_change", "unspecified",
    }
    assert set(script.catalogs) == {"en", "zh"}


def test_unknown_next_state_is_named(scripts: Path) -> None:
    edit(scripts / "flow.yaml", lambda d: d["states"]["ask_role"].update(next=["nowhere"]))
    with pytest.raises(ScriptError, match=r"flow.yaml: states.ask_role.next: unknown state"):
        load_script(scripts)


def test_unreachable_state_is_named(scripts: Path) -> None:
    def orphan(d: dict) -> None:
        d["states"]["orphan"] = {"prompt": "welcome", "input": "none", "next": ["idle"]}

    edit(scripts / "flow.yaml", orphan)
    with pytest.raises(ScriptError, match=r"flow.yaml: states.orphan: unreachable"):
        load_script(scripts)


def test_missing_translation_is_named(scripts: Path) -> None:
    edit(scripts / "zh.yaml", lambda d: d["followups"].pop("why_now"))
    with pytest.raises(ScriptError, match=r"zh.yaml: followups.why_now: missing translation"):
        load_script(scripts)


def test_missing_situation_text_is_named(scripts: Path) -> None:
    edit(scripts / "zh.yaml", lambda d: d["situations"]["quit"].pop("skeleton"))
    with pytest.raises(ScriptError, match=r"zh.yaml: situations.quit.skeleton: missing"):
        load_script(scripts)


def test_missing_message_template_is_named(scripts: Path) -> None:
    edit(scripts / "en.yaml", lambda d: d["messages"].pop("timeout"))
    with pytest.raises(ScriptError, match=r"en.yaml: messages.timeout: missing"):
        load_script(scripts)


def test_unknown_followup_in_situation_is_named(scripts: Path) -> None:
    edit(scripts / "situations.yaml",
         lambda d: d["situations"]["quit"].update(followups=["why_not"]))
    with pytest.raises(ScriptError, match=r"situations.quit.followups: unknown follow-up"):
        load_script(scripts)


def test_unknown_check_is_named(scripts: Path) -> None:
    edit(scripts / "situations.yaml",
         lambda d: d["situations"]["employed"].update(checks=["no_magic"]))
    with pytest.raises(ScriptError, match=r"situations.employed.checks: unknown check"):
        load_script(scripts)


@pytest.mark.parametrize(("sid", "change", "message"), [
    ("employed", {"may_follow": ["quit"]}, r"situations.employed.may_follow: 'quit' is not in"),
    ("between_jobs", {"may_follow": ["still_employed"]},
     r"situations.between_jobs.may_follow: needs the situation's own exit"),
])
def test_exits_that_may_follow_are_checked(scripts: Path, sid: str, change: dict,
                                          message: str) -> None:
    edit(scripts / "situations.yaml", lambda d: d["situations"][sid].update(change))
    with pytest.raises(ScriptError, match=message):
        load_script(scripts)


def test_broken_yaml_is_named(scripts: Path) -> None:
    (scripts / "en.yaml").write_text("labels: [unclosed", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"en.yaml: not valid YAML"):
        load_script(scripts)


def test_a_mentor_can_add_a_situation_without_code(scripts: Path) -> None:
    def add(d: dict) -> None:
        d["order"].insert(0, "sabbatical")
        d["situations"]["sabbatical"] = {
            "tense": "past", "followups": ["since_then"], "contradicts": ["fired"],
        }

    edit(scripts / "situations.yaml", add)
    for lang in ("en", "zh"):
        edit(scripts / f"{lang}.yaml", lambda d: d["situations"].update(sabbatical={
            "label": "Sabbatical", "question": "Why did you take a sabbatical?",
            "skeleton": "I took time to {{ growth }}.",
        }))
    script = load_script(scripts)
    assert script.situation_order[0] == "sabbatical"
    Interviewer(script=script)  # the engine accepts the extended script


def test_handlers_and_declared_states_must_agree(scripts: Path) -> None:
    def extra(d: dict) -> None:
        d["states"]["bonus"] = {"prompt": "welcome", "input": "none", "next": []}
        d["states"]["idle"]["next"].append("bonus")

    edit(scripts / "flow.yaml", extra)
    with pytest.raises(ScriptError, match=r"bonus.*no handler"):
        Interviewer(script=load_script(scripts))


def test_template_syntax_error_is_named(scripts: Path) -> None:
    edit(scripts / "en.yaml", lambda d: d["messages"].update(stopped="Bye {% if %}"))
    with pytest.raises(ScriptError, match=r"en.yaml: messages.stopped: template error"):
        load_script(scripts)


def test_missing_template_file_is_named(tmp_path: Path) -> None:
    from leavewell.dialogs.script import TEMPLATES_DIR

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "zh" / "history.j2").unlink()
    with pytest.raises(ScriptError, match=r"templates/zh/history.j2: missing template"):
        load_script(SCRIPTS_DIR, templates)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["followups"]["why_now"].update(when=["bored_stiff"]),
     r"followups.yaml: followups.why_now.when: unknown finding 'bored_stiff'"),
    (lambda d: d["followups"]["references"].update(unless=["charm"]),
     r"followups.yaml: followups.references.unless: unknown finding 'charm'"),
    (lambda d: d["followups"]["rehearsed"].update(modes=["grumpy"]),
     r"followups.yaml: followups.rehearsed.modes: unknown mode 'grumpy'"),
    (lambda d: d["followups"].pop("settled"),
     r"followups.yaml: followups.settled: has a text but no rule"),
    (lambda d: d.update(fallback="shrug"),
     r"followups.yaml: fallback: unknown follow-up 'shrug'"),
    (lambda d: d["always"].update(skeptical=["nope"]),
     r"followups.yaml: always.skeptical: unknown follow-up 'nope'"),
    (lambda d: d["followups"]["why_now"].update(because=["x"]),
     r"followups.yaml: followups.why_now.because: unknown key"),
])
def test_followup_rules_are_validated(scripts: Path, change, message: str) -> None:
    edit(scripts / "followups.yaml", change)
    with pytest.raises(ScriptError, match=message):
        load_script(scripts)
