"""One module per workflow step, named by its verb; each takes its AWS clients as arguments."""
