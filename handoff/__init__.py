"""Conversations handed to a person: the queue staff work from (queue.py), the hours they answer
in, and the staff desk's side of it (desk.py: inbox, live transcript, take, reply, hand back; the
Rasa HTTP API client it needs is rasa_api.py)."""
