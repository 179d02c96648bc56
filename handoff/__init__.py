"""Conversations handed to a person: the queue staff work from, and the hours they answer in."""
