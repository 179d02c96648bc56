"""A one-action package for tests/test_action_server.py."""
from rasa_sdk import Action


class ActionEcho(Action):
    def name(self):
        return "action_echo"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=f"收到：{tracker.latest_message.get('text')}")
        return []
