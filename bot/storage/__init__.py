"""Everything the bot keeps, behind one `Store` object.

The queries are grouped by concern, one module each, so a new platform table or a second SQL
dialect touches one group and not a 600-line class. Callers still see a single object: the
groups are mixins over one connection (`db.Database`), and `Store` puts them together.
"""

from __future__ import annotations

from bot.storage.cases import CaseReportQueries, CaseRow, HistoryRow, OpenCaseRow, ProcedureTally
from bot.storage.channel_state import ChannelStateQueries, TokenRow
from bot.storage.conversations import (
    ConversationQueries,
    HandoffRow,
    QuestionRow,
    UnansweredRow,
)
from bot.storage.db import Database
from bot.storage.feedback import FeedbackQueries, FeedbackRow, RatingRow, VoteRow
from bot.storage.outbox import OutboxQueries, OutboxRow
from bot.storage.personal_data import PersonalDataQueries
from bot.storage.scope import ReportScope


class Store(ConversationQueries, CaseReportQueries, FeedbackQueries, ChannelStateQueries, OutboxQueries,
            PersonalDataQueries, Database):
    """One open database; create with `await Store.open(path)`."""


__all__ = [
    "CaseRow", "FeedbackRow", "HandoffRow", "HistoryRow", "OpenCaseRow", "OutboxRow", "ProcedureTally", "QuestionRow",
    "RatingRow", "ReportScope", "Store", "TokenRow", "UnansweredRow", "VoteRow",
]
