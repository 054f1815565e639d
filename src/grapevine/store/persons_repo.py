"""Persons of the referral programme: participants and customers known by a normalised e-mail.

Keyword-only functions over a :class:`~sqlalchemy.orm.Session`; they add and flush, they never
commit (the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from grapevine.store._sql import chunks as _chunks
from grapevine.store.models import (
    Person,
)

__all__ = [
    "EMAIL_PLATFORM",
    "ERASED_PLATFORM",
    "get_or_create_person",
    "person_handles",
]


EMAIL_PLATFORM = "email"
"""The ``Person.platform`` of participants and customers known by a normalised e-mail."""


ERASED_PLATFORM = "erased"
"""The ``Person.platform`` of the tombstones that stand in for erased persons."""


def get_or_create_person(session: Session, *, platform: str, handle: str) -> Person:
    """The person ``(platform, handle)``, added when new."""
    person = session.scalars(
        select(Person).where(Person.platform == platform, Person.handle == handle)
    ).first()
    if person is None:
        person = Person(platform=platform, handle=handle)
        session.add(person)
        session.flush()
    return person


def person_handles(session: Session, *, person_ids: Iterable[int]) -> dict[int, str]:
    """``person id -> handle`` (the normalised e-mail of referral persons)."""
    out: dict[int, str] = {}
    for chunk in _chunks(person_ids):
        rows = session.execute(select(Person.id, Person.handle).where(Person.id.in_(chunk)))
        out.update({int(i): str(h) for i, h in rows})
    return out
