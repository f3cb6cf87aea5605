"""Mentor practice rounds in a group, as a pure state machine (no I/O, no clock).

    step_round(state, event) -> RoundResult    (machine; destination(state, to) -> address)
    events: OpenRound, JoinRound, SubmitAttempt, ShareAnswer, RateAnswer, CommentAnswer,
            EndRound, RoundDeadline, RoundStatus
    commands: parse_start, parse_round_command, parse_comment, parse_choice
    report: public_summary, mentor_report, export_csv, export_markdown, chart_series
"""
