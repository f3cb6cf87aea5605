"""End to end through the real PTB Application: mentions, links and commands a user types
come back in replies (role, company, quotes in the feedback) without becoming live
(issue 14)."""

from __future__ import annotations

from tests.dialogs.test_inert_words import GOOD_EN, user_made_live, visible
from tests.support.fake_telegram import FakeTelegram
from tests.telegram.conftest import RunningBot, button, exchange, last_with_buttons

ROLE = "Analyst @evil_admin evil.com/login"
COMPANY = "t.me/joinchat/EvilInvite"
ANSWER = ("My boss was a jerk, ask @everyone or @here, see https://evil.com/x and "
          "/evilcmd, write to boss@evil.org. " + GOOD_EN)


async def test_typed_mentions_and_links_come_back_inert(tg: FakeTelegram,
                                                        bot: RunningBot) -> None:
    eve = tg.user(1401, "Eve", language_code="en")
    await exchange(tg, eve, lambda: eve.send_command("/start"))
    await exchange(tg, eve, lambda: eve.send_text(ROLE))
    await exchange(tg, eve, lambda: eve.send_text(COMPANY))
    prompt = last_with_buttons(tg, eve)
    await exchange(tg, eve, lambda: eve.press(prompt, button(prompt, "laid off")))
    await exchange(tg, eve, lambda: eve.send_text(ANSWER))
    for _ in range(4):
        if any("/100" in m.plain for m in tg.messages(eve)):
            break
        await exchange(tg, eve, lambda: eve.send_text(f"I still meet my manager at {COMPANY}."))
    messages = tg.messages(eve)
    assert any("/100" in m.plain for m in messages)
    seen = "\n".join(visible(m.plain) for m in messages)
    for words in ("@evil_admin", "evil.com/login", COMPANY):
        assert words in seen  # echoed, readable
    for message in messages:
        assert user_made_live(message.plain) == [], message.plain
        assert not [e for e in message.entities if e["type"] in ("url", "text_link", "mention",
                                                                 "text_mention")]
    assert tg.errors == []
