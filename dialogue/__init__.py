"""The reasoning of one turn, free of Rasa: which service and aspect a message is about, when to
offer choices, how a reply picks an option. Rasa actions (actions/) call this."""
