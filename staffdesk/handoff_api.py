"""/api/v1/staff/handoff: the handoff inbox (人工接待) for clerks, coordinators and admins.

The logic lives in handoff.desk; these routes check the role, translate its errors and shape JSON.
Actions answer with the request's summary only (no Rasa round trip): the page fetches the
conversation again.
Rasa's HTTP API is reached with ONEWINDOW_RASA_URL / ONEWINDOW_RASA_TOKEN (tests put their own
client in `app.state.handoff_rasa`).
"""
from __future__ import annotations

from typing import Any, Dict

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from desk.dependencies import get_session
from handoff import desk
from handoff.desk import Clerk
from handoff.rasa_api import RasaAPI
from staffdesk.accounts import Staff
from staffdesk.auth import require
from staffdesk.roles import ADMIN, COORDINATOR

router = APIRouter(prefix="/api/v1/staff/handoff", tags=["staff: handoff"])
staff_only = require("handoff")
RequestId = Path(..., ge=1, le=2**31 - 1, description="排队号")


class ReplyBody(BaseModel):
    text: str


def rasa_api(request: Request) -> RasaAPI:
    return getattr(request.app.state, "handoff_rasa", None) or RasaAPI.from_env()


def clerk_of(staff: Staff) -> Clerk:
    return Clerk(id=staff.id, name=staff.display_name, supervisor=staff.role in (COORDINATOR, ADMIN))


def _detail(session: Session, request_id: int, clerk: Clerk, rasa: RasaAPI) -> Dict[str, Any]:
    request = desk.find(session, request_id)
    found = desk.conversation(session, request, rasa)
    item = desk.summary(request, clerk)
    mine = request.taken_by_id == clerk.id
    may_act = request.status == "taken" and (mine or clerk.supervisor)
    return {
        "request": item,
        "transcript": found.transcript,
        "live": found.live,
        "notice": found.notice,
        "can": {"take": request.status == "waiting", "reply": may_act, "hand_back": may_act},
    }


@router.get("", summary="The inbox: waiting, taken and recently closed conversations")
def inbox(staff: Staff = Depends(staff_only), session: Session = Depends(get_session)) -> dict:
    return desk.inbox(session, clerk_of(staff))


@router.get("/{request_id}", summary="One conversation with its live transcript")
def detail(request_id: int = RequestId, staff: Staff = Depends(staff_only), session: Session = Depends(get_session),
           rasa: RasaAPI = Depends(rasa_api)) -> dict:
    return _detail(session, request_id, clerk_of(staff), rasa)


@router.post("/{request_id}/take", summary="Take the conversation (409 when someone else has it)")
def take(request_id: int = RequestId, staff: Staff = Depends(staff_only), session: Session = Depends(get_session),
         rasa: RasaAPI = Depends(rasa_api)) -> dict:
    clerk = clerk_of(staff)
    return {"request": desk.summary(desk.take(session, request_id, clerk, rasa), clerk)}


@router.post("/{request_id}/reply", summary="Reply to the citizen through their channel")
def reply(body: ReplyBody, request_id: int = RequestId, staff: Staff = Depends(staff_only),
          session: Session = Depends(get_session), rasa: RasaAPI = Depends(rasa_api)) -> dict:
    clerk = clerk_of(staff)
    message = desk.reply(session, request_id, clerk, body.text, rasa)
    return {"request": desk.summary(message.request, clerk), "message": {"id": message.id, "text": message.text}}


@router.post("/{request_id}/hand-back", summary="End the human part: the bot answers again (503 without Rasa)")
def hand_back(request_id: int = RequestId, staff: Staff = Depends(staff_only), session: Session = Depends(get_session),
              rasa: RasaAPI = Depends(rasa_api)) -> dict:
    clerk = clerk_of(staff)
    return {"request": desk.summary(desk.hand_back(session, request_id, clerk, rasa), clerk)}
