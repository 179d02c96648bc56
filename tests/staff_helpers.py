"""Helpers for the staff desk tests: accounts of each role, and a signed-in API client."""
from __future__ import annotations

import itertools
from contextlib import asynccontextmanager
from typing import Optional

import httpx

from database import make_session
from staffdesk import accounts

PASSWORD = "Counter-2026!"
CSRF = {"X-Requested-With": "onewindow"}
_counter = itertools.count(1)


def make_staff(url: str, role: str, department: Optional[str] = None, name: Optional[str] = None,
               password: str = PASSWORD) -> str:
    """A new account (unique username) in the database at `url`; returns its username."""
    username = f"{role}{next(_counter)}"
    with make_session(url) as session:
        accounts.create_account(session, username, name or username, role, password, department)
        session.commit()
    return username


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict:
    response = await client.post("/api/v1/staff/login", json={"username": username, "password": password},
                                 headers=CSRF)
    assert response.status_code == 200, response.text
    return response.json()


@asynccontextmanager
async def staff_client(app, username: Optional[str] = None, password: str = PASSWORD):
    """An httpx client on the app that sends the CSRF header, signed in when a username is given."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk",
                                 headers=CSRF) as client:
        if username:
            await sign_in(client, username, password)
        yield client
