"""Conversation state: its JSON form is read back as written, and bad stored shapes never fail a turn."""

from __future__ import annotations

import pytest

from bot.places import Place
from bot.state import MAX_ANSWERS, MAX_VERIFIED, ConversationState, Lookup, RatingProgress


def test_round_trip_keeps_every_field() -> None:
    state = ConversationState(choices=["menu", "track"], procedure="dang-ky-khai-sinh", lookup=Lookup("C1"),
                              rating=RatingProgress("C1", "4", 2), verified=["C1"], answers=[7],
                              place=Place("Xã Búng Lao", "Tỉnh Điện Biên", "03301", ("Xã Ẳng Tở", "Huyện Mường Ảng")))
    assert ConversationState.from_json(state.to_json()) == state


def test_a_look_up_waiting_for_its_code_is_remembered() -> None:
    state = ConversationState(lookup=Lookup())
    assert ConversationState.from_json(state.to_json()).lookup == Lookup()


def test_the_stored_form_of_earlier_versions_still_reads() -> None:
    stored = {"procedure": "dang-ky-tam-tru", "choices": ["menu"], "lookup": {"code": "C9"},
              "rating": {"code": "C9", "step": 1, "level": "2"}, "verified": ["C9"], "answers": [3, 4]}
    state = ConversationState.from_json(stored)
    assert state.to_json() == stored


@pytest.mark.parametrize("stored", [None, [], "x", {"choices": "menu", "lookup": "C1", "rating": {"code": 1},
                                                    "answers": ["1", True], "procedure": 5}])
def test_a_stored_value_of_the_wrong_shape_is_dropped(stored: object) -> None:
    assert ConversationState.from_json(stored) == ConversationState()


def test_reset_ends_flows_but_keeps_what_was_proved() -> None:
    state = ConversationState(procedure="p", lookup=Lookup(), rating=RatingProgress("C", "5"), verified=["C"],
                              answers=[1])
    state.reset_flows()
    kept = (state.procedure, state.lookup, state.rating, state.verified, state.answers)
    assert kept == (None, None, None, ["C"], [1])


def test_memory_of_verified_cases_and_answers_is_bounded_and_keeps_the_latest() -> None:
    state = ConversationState()
    for i in range(MAX_VERIFIED + 5):
        state.verify(f"C{i}")
        state.remember_answer(i)
    state.verify("C3")
    assert len(state.verified) == MAX_VERIFIED and state.verified[-1] == "C3"
    assert state.answers == list(range(MAX_VERIFIED + 5))[-MAX_ANSWERS:]


def test_a_state_stored_before_places_were_remembered_loads_without_one() -> None:
    assert ConversationState.from_json({"procedure": "dang-ky-khai-sinh", "aspect": "where"}).place is None


@pytest.mark.parametrize("stored", ["Xã Búng Lao", {"commune": "Xã Búng Lao"}, {"commune": 1, "province": "T", "code": "1"}])
def test_a_remembered_place_of_the_wrong_shape_is_dropped(stored: object) -> None:
    assert ConversationState.from_json({"place": stored, "procedure": "p"}) == ConversationState(procedure="p")


def test_the_remembered_commune_stays_when_the_citizen_returns_to_the_menu() -> None:
    state = ConversationState(procedure="p", place=Place("Xã Búng Lao", "Tỉnh Điện Biên", "03301"))
    state.reset_flows()
    assert state.place == Place("Xã Búng Lao", "Tỉnh Điện Biên", "03301")
