"""Arbitrary input at any state never raises and never loses the conversation."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.events import (
    COMMANDS,
    ChoicePressed,
    Command,
    Resume,
    Start,
    TextAnswer,
    Timeout,
    Unsupported,
)
from leavewell.dialogs.render import HTML, MARKDOWN, PLAIN, default_renderer
from leavewell.dialogs.script import default_script
from tests.support.formats import telegram_html_problems

ENGINE = Interviewer()
STATES = set(default_script().states)

texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["1", "2", "9", "0", "skip", "", "   ", "🙂", "<b>", "/", "@everyone",
                     "My boss was a jerk.", "我被裁员了。", "x" * 6000]),
)
choices = st.one_of(
    st.text(max_size=30),
    st.builds(lambda n, v: f"{n}.{v}", st.integers(-1, 40),
              st.sampled_from(["skip", "retry", "another", "stop", "laid_off", "lang_zh",
                               "practice", "nope"])),
    st.sampled_from(["lang.en", "lang.zh", "lang.xx", "forget.yes", "forget.no", "forget."]),
)
events = st.lists(
    st.one_of(
        st.builds(TextAnswer, at=st.just(0), text=texts,
                  voice_seconds=st.none() | st.floats(0, 600)),
        st.builds(ChoicePressed, at=st.just(0), choice=choices),
        st.builds(Command, at=st.just(0),
                  name=st.sampled_from(COMMANDS) | st.text(max_size=10), args=texts),
        st.builds(Start, at=st.just(0), lang_hint=st.none() | st.sampled_from(["en", "zh", "de"])),
        st.builds(Timeout, at=st.just(0)),
        st.builds(Unsupported, at=st.just(0)),
        st.builds(Resume, at=st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.lists(st.floats(0, 4000), min_size=25, max_size=25))
def test_any_event_sequence_is_handled(sequence, gaps) -> None:
    profile: dict = {}
    state: dict = {}
    clock = 1_700_000_000.0
    renderer = default_renderer()
    for event, gap in zip(sequence, gaps, strict=False):
        clock += gap
        event = type(event)(**{**{f: getattr(event, f) for f in event.__slots__}, "at": clock})
        result = ENGINE.step(profile, state, event)
        assert result.state["stage"] in STATES
        if not result.forget:
            # nothing the user said so far is lost: attempts only ever grow
            assert len(result.profile.get("attempts", [])) >= len(profile.get("attempts", []))
        for outgoing in result.outgoing:
            for fmt in (PLAIN, HTML, MARKDOWN):
                text = renderer.render(outgoing, fmt).text
                assert text.strip()
            assert telegram_html_problems(renderer.render(outgoing, HTML).text) == [] \
                or len(renderer.render(outgoing, HTML).text) > 4096
            for choice in outgoing.choices:
                assert 1 <= len(choice.id.encode()) <= 64
        profile, state = result.profile, result.state
    # the conversation can always be resumed
    result = ENGINE.step(profile, state, Resume(at=clock + 1))
    assert result.outgoing
