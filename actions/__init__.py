"""Custom Rasa actions: thin adapters from the tracker to dialogue/, knowledge/, handoff/, analytics/."""
from actions.answer import ActionAnswer
from actions.fallback import ActionFallback
from actions.handoff import ActionHandoff
from actions.rating import ActionRateAnswer

__all__ = ["ActionAnswer", "ActionFallback", "ActionHandoff", "ActionRateAnswer"]
