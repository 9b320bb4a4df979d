"""Button actions: what a button carries comes back as the same action, and nothing else parses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import actions
from bot.actions import ActionTooLong, encode, parse

CODE = "000.00.27.H15-251120-0012"
EVERY_KIND = [
    actions.Menu(), actions.Group(3), actions.Procedure("dang-ky-khai-sinh"),
    actions.Procedure("dang-ky-khai-sinh", "fees"), actions.Human(), actions.Track(), actions.Follow(CODE),
    actions.Unfollow(CODE), actions.ShowCase(CODE), actions.Rate(), actions.Rate(CODE), actions.Rate(CODE, "4"),
    actions.RatingAnswer(CODE, "visits", "0"), actions.RatingAnswer(CODE, "comment"), actions.Vote(12, up=True),
    actions.Vote(12, up=False), actions.ForwardQuestion(12), actions.Forget(),
]


@pytest.mark.parametrize("action", EVERY_KIND, ids=lambda a: encode(a))
def test_every_action_survives_the_round_trip(action: actions.Action) -> None:
    assert parse(encode(action)) == action


def test_the_wire_form_is_the_one_buttons_already_sent_carry() -> None:
    """Buttons in chats from before an upgrade keep working."""
    assert [encode(a) for a in EVERY_KIND[:6]] == [
        "menu", "grp:3", "proc:dang-ky-khai-sinh", "proc:dang-ky-khai-sinh:fees", "human", "track"]
    assert encode(actions.RatingAnswer(CODE, "comment")) == f"rq:{CODE}:comment:"
    assert parse("vote:12:down") == actions.Vote(12, up=False)
    assert parse("forget:confirm") == actions.Forget()


@pytest.mark.parametrize("wire", ["", "x", "menu:1", "grp:", "grp:²", "grp:١٢", "vote:1:maybe", "vote:x:up", "fwd:",
                                  "forget", "forget:now", "follow:", "rq:" + CODE, "proc:"])
def test_what_this_version_does_not_offer_is_none(wire: str) -> None:
    assert parse(wire) is None


def test_an_action_longer_than_telegram_allows_is_refused_where_it_is_built() -> None:
    long_code = "H40.05-20251025-0301-" + "9" * 40
    with pytest.raises(ActionTooLong):
        encode(actions.RatingAnswer(long_code, "attitude", "good"))


def test_a_field_cannot_smuggle_a_separator() -> None:
    with pytest.raises(ValueError):
        encode(actions.Follow("A:B"))


@given(st.text(max_size=80))
def test_parse_never_fails_on_forged_payloads(wire: str) -> None:
    action = parse(wire)
    if action is not None:
        assert parse(encode(action)) == action
