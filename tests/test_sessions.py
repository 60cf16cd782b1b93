"""The session store: unguessable ids, idle eviction, the cap, watched sessions kept."""

from __future__ import annotations

import time

import pytest
from fastapi import HTTPException

from app.sessions import SessionStore


class _Runner:
    done = False


def test_ids_are_unguessable_and_distinct():
    store = SessionStore(100, 60)
    ids = {store.create("mlp", _Runner()).id for _ in range(50)}
    assert len(ids) == 50 and all(len(i) >= 20 for i in ids)


def test_idle_sessions_are_evicted_but_watched_ones_stay():
    store = SessionStore(10, idle_seconds=0.01)
    idle = store.create("mlp", _Runner())
    watched = store.create("mlp", _Runner())
    watched.subscribers.add(object())
    time.sleep(0.02)
    assert store.evict_idle() == 1
    assert store.find("mlp", idle.id) is None
    assert store.find("mlp", watched.id) is watched


def test_cap_evicts_idle_first_then_refuses():
    store = SessionStore(1, idle_seconds=0.01)
    first = store.create("mlp", _Runner())
    time.sleep(0.02)
    second = store.create("mlp", _Runner())  # the idle one makes room
    assert store.find("mlp", first.id) is None
    with pytest.raises(HTTPException) as exc:
        store.create("mlp", _Runner())
    assert exc.value.status_code == 429
    assert store.get("mlp", second.id) is second


def test_a_session_belongs_to_its_lab():
    store = SessionStore(10, 60)
    s = store.create("perceptron", _Runner())
    with pytest.raises(HTTPException) as exc:
        store.get("mlp", s.id)
    assert exc.value.status_code == 404
