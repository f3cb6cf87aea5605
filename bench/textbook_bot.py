"""A textbook python-telegram-bot interview bot, the yardstick for bench_textbook.py.

Written the way PTB's examples teach: a ConversationHandler with one handler per step,
PicklePersistence flushed on an interval (so a crash loses up to a minute of state),
`run_polling`, no rate limiter. It plays the same interview as leavewell (role, company,
situation button, answer, two follow-ups, feedback with buttons, retry) and analyses the
answer with our analyzer, so both bots do the same domain work. Run by the bench:

    TEXTBOOK_TOKEN=... TEXTBOOK_BASE_URL=... TEXTBOOK_PICKLE=... python bench/textbook_bot.py
"""

from __future__ import annotations

import html
import os
import sys
import warnings
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.rubric import SituationRubric

ROLE, COMPANY, SITUATION, ANSWER, FOLLOW_UP, AFTER = range(6)
SITUATIONS = ["employed", "laid_off", "let_go", "between_jobs", "quit", "contract_ended",
              "relocation_family", "career_change"]
FOLLOW_UPS = ["What did you learn from it?", "Why this role, and why now?"]


def buttons(*labels: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)]
                                 for text, data in labels])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.message.reply_text("Welcome! What role are you practising for?")
    return ROLE


async def role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data["role"] = update.message.text
    await update.message.reply_text("Which company?")
    return COMPANY


async def company(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data["company"] = update.message.text
    await update.message.reply_text(
        "What is your situation?", reply_markup=buttons(*((s, s) for s in SITUATIONS)))
    return SITUATION


async def situation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    context.user_data["situation"] = query.data
    await query.message.reply_text("Interviewer: Why did you leave your last job?")
    return ANSWER


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data["answer"] = update.message.text
    context.user_data["follow_ups"] = 0
    await update.message.reply_text(f"Interviewer: {FOLLOW_UPS[0]}")
    return FOLLOW_UP


async def follow_up(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    data = context.user_data
    data["follow_ups"] += 1
    if data["follow_ups"] < len(FOLLOW_UPS):
        await update.message.reply_text(f"Interviewer: {FOLLOW_UPS[data['follow_ups']]}")
        return FOLLOW_UP
    result = analyze(data["answer"], lang="en",
                     rubric=SituationRubric(id=data.get("situation", "unspecified")),
                     role=data.get("role"), company=data.get("company"))
    lines = [f"<b>{result.score}/100</b> ({html.escape(result.verdict)})"]
    lines += [f"• {html.escape(f.message)}" for f in (*result.red_flags, *result.improvements)]
    await update.message.reply_text(
        "\n".join(lines), parse_mode=ParseMode.HTML,
        reply_markup=buttons(("Retry", "retry"), ("Another situation", "other")))
    return AFTER


async def after(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    await query.message.reply_text("Interviewer: Why did you leave your last job?")
    return ANSWER


def main() -> None:
    persistence = PicklePersistence(os.environ["TEXTBOOK_PICKLE"], update_interval=60)
    app = (ApplicationBuilder().token(os.environ["TEXTBOOK_TOKEN"])
           .base_url(os.environ["TEXTBOOK_BASE_URL"])
           .base_file_url(os.environ["TEXTBOOK_FILE_URL"])
           .persistence(persistence).build())
    # Per chat, not per message, as the examples do; PTB warns about that choice.
    warnings.filterwarnings("ignore", message="If 'per_message=False'")
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            ROLE: [MessageHandler(text, role)],
            COMPANY: [MessageHandler(text, company)],
            SITUATION: [CallbackQueryHandler(situation)],
            ANSWER: [MessageHandler(text, answer)],
            FOLLOW_UP: [MessageHandler(text, follow_up)],
            AFTER: [CallbackQueryHandler(after)],
        },
        fallbacks=[CommandHandler("start", start)],
        name="interview",
        persistent=True,
    ))
    app.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
