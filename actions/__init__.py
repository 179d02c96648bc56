"""Custom Rasa actions: thin adapters from the tracker to dialogue/, knowledge/, handoff/,
analytics/ and filings/. The action server masks ID and mobile numbers in its logs."""
from filings.identity import install_log_redaction

install_log_redaction()

from actions.answer import ActionAnswer  # noqa: E402
from actions.case_rating import ActionRateCase  # noqa: E402
from actions.fallback import ActionFallback  # noqa: E402
from actions.feedback import ActionStartFeedback, ActionSubmitFeedback, ValidateFeedbackForm  # noqa: E402
from actions.filing import (  # noqa: E402
    ActionAskFilingConfirmed,
    ActionAskFilingConsent,
    ActionStartFiling,
    ActionSubmitFiling,
    ValidateFilingForm,
)
from actions.handoff import ActionHandoff  # noqa: E402
from actions.progress import ActionStartTracking, ActionSubmitTracking, ValidateTrackingForm  # noqa: E402
from actions.rating import ActionRateAnswer  # noqa: E402
from actions.stop import ActionStop  # noqa: E402
from actions.workorder_reply import ActionSettleWorkOrder  # noqa: E402

__all__ = [
    "ActionAnswer", "ActionAskFilingConfirmed", "ActionAskFilingConsent", "ActionFallback", "ActionHandoff",
    "ActionRateAnswer", "ActionRateCase", "ActionSettleWorkOrder", "ActionStartFeedback", "ActionStartFiling", "ActionStartTracking",
    "ActionStop", "ActionSubmitFeedback", "ActionSubmitFiling", "ActionSubmitTracking", "ValidateFeedbackForm",
    "ValidateFilingForm", "ValidateTrackingForm",
]
