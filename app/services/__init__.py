"""Reading the dataset: one immutable snapshot per data version, and queries over it."""
