"""What the conversations tell us: answered questions and their ratings, unanswered questions."""
