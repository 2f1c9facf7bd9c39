"""Letter and review-page templates (package data of facet-claims)."""
