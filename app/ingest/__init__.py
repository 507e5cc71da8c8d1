"""Reading, checking and loading source bundles: the only way data enters Muster."""
