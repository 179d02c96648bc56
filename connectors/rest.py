"""The REST channel (POST /webhooks/rest/webhook), keeping each bot message whole."""
from __future__ import annotations

from typing import Any, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.rest import RestInput as RasaRestInput

from connectors.messages import compose


class WholeMessageCollector(CollectingOutputChannel):
    """Collects one dict per bot message: text, buttons and custom data together."""

    @classmethod
    def name(cls) -> Text:
        return "collector"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        composed = compose(message)
        if composed is not None:
            await self._persist_message({"recipient_id": recipient_id, **composed})


class RestInput(RasaRestInput):
    """Same URL and request as Rasa's REST channel: {"sender", "message", "metadata"?}."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def get_output_channel(self) -> CollectingOutputChannel:
        return WholeMessageCollector()
