"""Benchmarks of the interview core. Run from the project root:

    python bench/bench_core.py [--steps 3000] [--conversations 1000] [--turns 20000]

1. Core step latency (analysis + transition + rendering) of a 150-word answer:
   p50 / p99 over many runs. Bar: p99 under 1 ms.
   Beside it, what the interviewer adds to the analysis in that step: judging the whole
   exchange (dialogs.exchange) and choosing the next follow-up (dialogs.followups), timed
   against the analysis of the same answer in the same run.
2. Durable turns per second through the async core and SQLite, with many
   concurrent conversations (each conversation's events in order, all
   conversations at once). Bar: 2,000 turns/s on 2 cores with 1,000 conversations.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leavewell.bot.core import Core
from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.events import Command, Start, TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import HTML, Renderer, default_renderer
from leavewell.storage import open_store
from leavewell.storage.base import OutboxItem

ANSWER_150 = (
    "I spent four years at a logistics company, where I started as a junior analyst and "
    "grew into leading a small team of three. We rebuilt the weekly forecasting reports in "
    "Python and SQL, which cut the time to produce them from two days to three hours and "
    "improved accuracy by about 15 percent. I'm proud of that work and I learned a lot from "
    "my manager, who is still one of my references. Over the last year the company merged "
    "two departments and my role became mostly maintenance, so there is less room to grow "
    "into the machine learning work I have been studying in the evenings. I finished two "
    "courses and built a small demand model for a local charity. That is why this role "
    "appeals to me: your team is building forecasting products at a much larger scale, and "
    "I would like to bring my experience there while I keep learning and take on more."
)


SYNC = ""  # e.g. "?synchronous=NORMAL" (the default is FULL: durable against power loss)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


RISKY_EN = (
    "Honestly my boss was terrible and the pay was not enough, so I guess I just wanted out. "
) + ANSWER_150

class SteadyWork:
    """A pure-Python loop that does the same work every time, sized to take about as long
    as the step: timed after each step, its p99 over its p50 is what the machine alone
    (other processes, frequency changes, a shared core) adds to a p99, since the work
    never changes."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    @classmethod
    def like(cls, step: Callable[[], object], trials: int = 50) -> SteadyWork:
        fastest = min(_timed(step) for _ in range(trials))
        work = cls(10_000)
        per_round = min(work.timed() for _ in range(trials)) / work.rounds
        return cls(max(1, round(fastest / per_round)))

    def timed(self) -> float:
        started = time.perf_counter()
        total = 0
        for i in range(self.rounds):
            total += i * i
        return (time.perf_counter() - started) * 1000


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


SETUPS: dict[str, tuple[tuple[str, str], ...]] = {
    # label: commands before the interview
    "English": (),
    "Chinese interface, English interview (phrase help, glossary)": (("lang", "zh en"),),
}


def bench_step(runs: int) -> None:
    for label, commands in SETUPS.items():
        answer = ANSWER_150 if not commands else RISKY_EN
        step_latency(runs, label, commands, answer)


def at_main_question(commands: tuple[tuple[str, str], ...] = (),
                     ) -> tuple[Interviewer, dict, dict]:
    """An interviewer, and a profile and state that wait for the answer to the main
    question (after ``commands``)."""
    engine = Interviewer()
    profile: dict = {}
    state: dict = {}
    setup = [Command(at=0.5, name=name, args=args) for name, args in commands]
    for event in (*setup, Start(at=1, lang_hint="en"), TextAnswer(at=2, text="skip"),
                  TextAnswer(at=3, text="Acme"), TextAnswer(at=4, text="3")):
        result = engine.step(profile, state, event)
        profile, state = result.profile, result.state
    return engine, profile, state


def answer_and_render(engine: Interviewer, profile: dict, state: dict, renderer: Renderer,
                      at: float, text: str) -> None:
    """One answer step from the same profile and state, its messages rendered."""
    result = engine.step(profile, state, TextAnswer(at=at, text=text))
    for outgoing in result.outgoing:
        renderer.render(outgoing, HTML)


def leave_out_tone_reading() -> Callable[[], None]:
    """Replace the tone model's reading of the English benchmark answer by its own result
    (so a step does everything else, the same verdict included); returns what puts the
    reading back."""
    from leavewell.dialogs.analyzer import tone
    from leavewell.dialogs.analyzer.analysis import MATCHERS

    reading = tone.judge
    known = reading(MATCHERS["en"].normalize(ANSWER_150), "en")
    tone.judge = lambda *_args, **_kwargs: known

    def restore() -> None:
        tone.judge = reading

    return restore


def step_latency(runs: int, label: str, commands: tuple[tuple[str, str], ...],
                 answer: str) -> None:
    engine, profile, state = at_main_question(commands)
    renderer = default_renderer()
    words = len(answer.split())
    samples: list[float] = []
    cpu_samples: list[float] = []  # the step's own CPU time: not the time other processes
    steady = SteadyWork.like(lambda: engine.step(profile, state, TextAnswer(at=9, text=answer)))
    steady_samples: list[float] = []
    for i in range(runs):          # on a shared machine were given the core meanwhile
        started, cpu_started = time.perf_counter(), time.thread_time()
        result = engine.step(profile, state, TextAnswer(at=10 + i, text=answer))
        for outgoing in result.outgoing:
            renderer.render(outgoing, HTML)
        samples.append((time.perf_counter() - started) * 1000)
        cpu_samples.append((time.thread_time() - cpu_started) * 1000)
        steady_samples.append(steady.timed())
    # the feedback step renders the longest message: measure it too, from the last
    # follow-up (the follow-ups are chosen after every answer, so answer until the next
    # answer brings the feedback)
    feedback_samples: list[float] = []
    fb_profile, fb_state = result.profile, result.state
    while True:
        trial = engine.step(fb_profile, fb_state, TextAnswer(at=19, text="Yes."))
        if any(o.template == "feedback" for o in trial.outgoing):
            break
        fb_profile, fb_state = trial.profile, trial.state
    for i in range(runs):
        started = time.perf_counter()
        result2 = engine.step(fb_profile, fb_state, TextAnswer(at=20 + i, text="Yes."))
        for outgoing in result2.outgoing:
            renderer.render(outgoing, HTML)
        feedback_samples.append((time.perf_counter() - started) * 1000)
    assert any(o.template == "feedback" for o in result2.outgoing)
    print(f"core step, {label}, {words}-word answer (analysis + transition + render), "
          f"{runs} runs:")
    print(f"  answer step   p50 {statistics.median(samples):.3f} ms  "
          f"p99 {percentile(samples, 0.99):.3f} ms  (CPU time: p50 "
          f"{statistics.median(cpu_samples):.3f} ms  p99 {percentile(cpu_samples, 0.99):.3f} ms)")
    print(f"  feedback step p50 {statistics.median(feedback_samples):.3f} ms  "
          f"p99 {percentile(feedback_samples, 0.99):.3f} ms")
    step_spread = percentile(samples, 0.99) / statistics.median(samples)
    steady_spread = percentile(steady_samples, 0.99) / statistics.median(steady_samples)
    print(f"  the machine's own spread: the same fixed work timed after each step "
          f"p50 {statistics.median(steady_samples):.3f} ms  "
          f"p99 {percentile(steady_samples, 0.99):.3f} ms  "
          f"(p99/p50 {steady_spread:.2f}; the answer step's {step_spread:.2f})")


def bench_tone_share(runs: int, blocks: int = 5) -> None:
    """What the tone model's reading costs inside the English answer step: blocks of steps
    with it and with its reading replaced by its own result (so the step does everything
    else, the same verdict included), alternating, so that the machine's noise falls on
    both; the medians of the blocks' p50 and p99."""
    engine, profile, state = at_main_question()
    renderer = default_renderer()
    figures: dict[str, list[tuple[float, float]]] = {"with the model": [],
                                                     "its reading left out": []}

    def step(i: int) -> None:
        answer_and_render(engine, profile, state, renderer, 10 + i, ANSWER_150)

    for _ in range(blocks):
        for name, samples in figures.items():
            restore = leave_out_tone_reading() if name != "with the model" else None
            try:
                for i in range(runs // 10):  # warm up after the switch
                    step(i)
                timed = [_timed(lambda i=i: step(i)) for i in range(runs)]
            finally:
                if restore is not None:
                    restore()
            samples.append((statistics.median(timed), percentile(timed, 0.99)))
    print(f"the tone model's share of the English answer step ({blocks} alternating blocks "
          f"of {runs} steps, medians):")
    for name, samples in figures.items():
        p50 = statistics.median(a for a, _ in samples)
        p99 = statistics.median(b for _, b in samples)
        print(f"  {name:22} p50 {p50:.3f} ms  p99 {p99:.3f} ms")


def bench_listening(runs: int) -> None:
    """The exchange judged and the next follow-up chosen after a third answer, against
    the analysis of the 150-word answer alone (the step's largest part)."""
    from leavewell.dialogs.analyzer import analyze
    from leavewell.dialogs.exchange import MAIN, Said, compact, judge
    from leavewell.dialogs.followups import next_followup
    from leavewell.dialogs.script import default_script

    script = default_script()
    situation = script.situation("laid_off")
    rubric = situation.rubric
    texts = [(MAIN, ANSWER_150), ("why_now", "Honestly my boss was an idiot."),
             ("your_part", "I guess I could have asked for help earlier.")]
    said = [Said(q, t, compact(analyze(t, lang="en", rubric=rubric).to_dict()))
            for q, t in texts]
    said[0] = Said(MAIN, ANSWER_150, analyze(ANSWER_150, lang="en", rubric=rubric).to_dict())
    timings: dict[str, list[float]] = {"analysis": [], "judge + next follow-up": []}
    for _ in range(runs):
        started = time.perf_counter()
        analyze(ANSWER_150, lang="en", rubric=rubric)
        timings["analysis"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        heard = judge(said, "skeptical")
        next_followup(script.followup_table, situation, heard,
                      asked=["why_now", "your_part"], probed=["trash_talk"], mode="skeptical")
        timings["judge + next follow-up"].append((time.perf_counter() - started) * 1000)
    base = statistics.median(timings["analysis"])
    print(f"what listening adds to a step (3 answers, skeptical), {runs} runs:")
    for name, samples in timings.items():
        print(f"  {name:24} p50 {statistics.median(samples):.3f} ms  "
              f"p99 {percentile(samples, 0.99):.3f} ms  "
              f"({statistics.median(samples) / base:.2f}x the analysis)")


ROUND = ["skip", "skip", "2"]
LOOP = [ANSWER_150, "I learned to raise risks early.", "Because your team builds at scale.",
        "1"]


def script_event(i: int) -> Start | TextAnswer | Command:
    """A realistic mix: set-up, then answer, two follow-ups, feedback, retry, again."""
    if i == 0:
        return Start(at=1.0, lang_hint="en")
    if i <= len(ROUND):
        return TextAnswer(at=1.0 + i, text=ROUND[i - 1])
    if i % 25 == 0:
        return Command(at=1.0 + i, name="history")
    return TextAnswer(at=1.0 + i, text=LOOP[(i - len(ROUND) - 1) % len(LOOP)])


class NullSender:
    async def send(self, item: OutboxItem) -> None:
        Outgoing.from_dict(item.payload)


async def bench_durable(conversations: int, total_turns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{Path(tmp) / 'bench.db'}{SYNC}")
        core = Core(store, Interviewer())
        core.register_sender("bench", NullSender())
        per_conversation = max(1, total_turns // conversations)
        latencies: list[float] = []

        async def user(n: int) -> None:
            ref = ConversationRef("bench", f"c{n}", f"u{n}")
            for i in range(per_conversation):
                event = script_event(i)
                started = time.perf_counter()
                await core.handle(Incoming(ref, event, f"{n}:{i}"))
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(conversations)))
        elapsed = time.perf_counter() - started
        turns = conversations * per_conversation
        # order check: every conversation's events were stored in the order sent
        sample = await store.turns(ConversationRef("bench", "c7", "u7").key)
        expected = [script_event(i) for i in range(per_conversation)]
        assert [t.at for t in sample] == [e.at for e in expected], "order broken"
        await store.close()
    print(f"durable turns through core + SQLite, {conversations} concurrent conversations:")
    print(f"  {turns} turns in {elapsed:.2f} s = {turns / elapsed:,.0f} turns/s "
          f"(each: step, one transaction, outbox delivery, mark sent)")
    print(f"  per-turn latency p50 {statistics.median(latencies):.1f} ms  "
          f"p99 {percentile(latencies, 0.99):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=20000)
    args = parser.parse_args()
    bench_step(args.steps)
    bench_tone_share(args.steps)
    bench_listening(args.steps)
    asyncio.run(bench_durable(args.conversations, args.turns))


if __name__ == "__main__":
    main()
