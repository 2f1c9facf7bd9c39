"""facet-claims extractor: documents -> text with origins -> facts with evidence."""
