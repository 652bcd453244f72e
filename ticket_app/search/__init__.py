"""Full-text search: the query syntax agents type and what each database engine runs for it."""
