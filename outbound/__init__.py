"""Messages to citizens that do not answer a message of theirs: case updates, staff replies.

Any process queues one with `outbox.enqueue()` (one row in `outbound_messages`); the Rasa process,
which holds the channels' connections (socket.io rooms, WeChat and WeCom API clients), delivers
them with `delivery.OutboxDelivery`, retrying with backoff and keeping what finally fails.
"""
