"""Reading codes: the name a blinded reader knows a case by.

A case's number (its primary key) and its opening date follow the order cases were opened in: in a
retrospective accuracy study they open at registration, in blocks (the acute cases registered, then the
chronic), so the number tells the reader the reference group; in a prospective study the date tells how long
after the procedure the MRI was. Blinded reading (FDA 2018 imaging-endpoint process; STARD 2015 item 13a)
wants a name and an order that carry nothing: each reader's assignment gets its own random code, drawn from
the operating system's generator (`secrets`), and the reader's queue is sorted by it, so two readers of one
case know it by two codes and see their cases in two unrelated orders.

Seven characters of an alphabet without look-alikes (no 0/O, 1/I/L): 31**7, about 2.8e10 codes, so a draw
that repeats one in use is rare; the database's unique constraint catches it and the draw is repeated
(services/assignment.py, `assignment_create`).
"""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 7
PATTERN = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_reading_code() -> str:
    """A fresh random code, e.g. K7M2P9Q."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def reading_code_parsed(text: str) -> str | None:
    """The code as typed or linked (any case, spaces around), or None when it cannot be one."""
    code = (text or "").strip().upper()
    return code if PATTERN.match(code) else None


def new_reading_codes(count: int, *, taken: set[str]) -> list[str]:
    """`count` fresh codes, none of them `taken` nor repeated: for rows inserted in bulk (the demo's), which
    cannot draw again one by one."""
    codes: set[str] = set()
    while len(codes) < count:
        code = new_reading_code()
        if code not in taken:
            codes.add(code)
    return list(codes)
