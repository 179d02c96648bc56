"""A custom NLU component: a short reply that is only a number or an ordinal picks an option.

DIET confuses bare digits with other intents ("2" with goodbye, since "88" means bye-bye), and a
reply like "2" or "第二个" after a question with options is a choice whatever the classifier
thinks. Runs last in the pipeline and overrides the intent (and a fallback) for such replies.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from dialogue.options import ordinal_choice

CHOOSE_OPTION = "choose_option"
MAX_LENGTH = 8  # longer messages say more than a pick ("第二个要带什么材料" goes to DIET)


def is_option_pick(text: str) -> bool:
    text = (text or "").strip()
    return 0 < len(text) <= MAX_LENGTH and ordinal_choice(text, 10) is not None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OptionPickOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "OptionPickOverride":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not text.startswith("/") and is_option_pick(text):
                message.set(INTENT, {"name": CHOOSE_OPTION, "confidence": 1.0}, add_to_output=True)
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != CHOOSE_OPTION]
                message.set(INTENT_RANKING_KEY, [{"name": CHOOSE_OPTION, "confidence": 1.0}, *ranking], add_to_output=True)
        return messages
