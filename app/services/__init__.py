"""Reading the dataset from the database, and rendering it for the load."""
