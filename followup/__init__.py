"""Follow-up: visits, questionnaires, imaging follow-up, adjudication (later issue)."""
