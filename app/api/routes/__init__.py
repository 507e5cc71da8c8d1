"""One router per resource, gathered by ``app.main``."""
